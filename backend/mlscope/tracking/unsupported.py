"""MLflow's names outside the tracking API (model flavors, autolog, registry, tracing): a clear error, not a bare AttributeError.

``import mlscope as mlflow`` covers runs, params, metrics, tags, artifacts and
datasets. A script that then reaches for ``mlflow.sklearn.log_model`` or
``mlflow.autolog()`` learns, at that line, how to keep those features: run it
with MLflow's own client against ``mlscope server``.
"""

from __future__ import annotations

from .validation import MlscopeException

# MLflow's model flavors and integrations (its top-level subpackages that wrap an ML library).
FLAVORS = frozenset(["ag2", "agno", "anthropic", "autogen", "bedrock", "catboost", "claude_code", "crewai", "diffusers", "dspy", "gemini", "groq", "h2o", "haystack", "johnsnowlabs", "keras", "langchain", "lightgbm", "litellm", "llama_index", "mistral", "onnx", "openai", "optuna", "paddle", "pmdarima", "prophet", "pydantic_ai", "pyfunc", "pyspark", "pytorch", "semantic_kernel", "sentence_transformers", "shap", "sklearn", "smolagents", "spacy", "spark", "statsmodels", "strands", "tensorflow", "transformers", "xgboost"])

# MLflow's other top-level names that are not run tracking.
OTHER_FEATURES = {
    "autolog": "autologging",
    "models": "model packaging (mlflow.models)",
    "evaluate": "model evaluation",
    "validate_evaluation_results": "model evaluation",
    "initialize_logged_model": "logged models",
    "finalize_logged_model": "logged models",
    "create_external_model": "logged models",
    "get_logged_model": "logged models",
    "last_logged_model": "logged models",
    "search_logged_models": "logged models",
    "set_logged_model_tags": "logged models",
    "delete_logged_model_tag": "logged models",
    "log_model_params": "logged models",
    "log_outputs": "logged models",
    "set_active_model": "logged models",
    "clear_active_model": "logged models",
    "get_active_model_id": "logged models",
    "ActiveModel": "logged models",
    "import_checkpoints": "logged models",
    "trace": "tracing",
    "tracing": "tracing",
    "start_span": "tracing",
    "start_span_no_context": "tracing",
    "get_trace": "tracing",
    "search_traces": "tracing",
    "log_trace": "tracing",
    "add_trace": "tracing",
    "update_current_trace": "tracing",
    "get_current_active_span": "tracing",
    "get_active_trace_id": "tracing",
    "get_last_active_trace_id": "tracing",
    "set_trace_tag": "tracing",
    "delete_trace_tag": "tracing",
    "flush_trace_async_logging": "tracing",
    "search_sessions": "tracing",
    "log_assessment": "GenAI assessments",
    "log_feedback": "GenAI assessments",
    "log_expectation": "GenAI assessments",
    "log_issue": "GenAI assessments",
    "get_assessment": "GenAI assessments",
    "update_assessment": "GenAI assessments",
    "delete_assessment": "GenAI assessments",
    "override_feedback": "GenAI assessments",
    "genai": "GenAI features",
    "load_prompt": "the prompt registry",
    "register_prompt": "the prompt registry",
    "search_prompts": "the prompt registry",
    "set_prompt_alias": "the prompt registry",
    "delete_prompt_alias": "the prompt registry",
    "gateway": "the AI gateway",
    "deployments": "deployments",
    "projects": "MLflow Projects",
    "run": "MLflow Projects",
    "login": "Databricks login",
    "create_workspace": "workspaces",
    "delete_workspace": "workspaces",
    "get_workspace": "workspaces",
    "list_workspaces": "workspaces",
    "set_workspace": "workspaces",
    "update_workspace": "workspaces",
    "log_stream": "streamed artifacts",
    "Image": "mlflow.Image",
    "test": "mlflow.test",
    "trace_location": "Unity Catalog trace locations",
}


class UnsupportedFeatureError(MlscopeException, AttributeError):
    """An MLflow feature mlscope's client does not include; an AttributeError too, so hasattr() stays False."""

    def __init__(self, name: str) -> None:
        if name in FLAVORS:
            what = f"MLflow's `{name}` flavor"
        elif name in OTHER_FEATURES:
            what = f"MLflow's {OTHER_FEATURES[name]} (`mlflow.{name}`)"
        else:
            what = f"`mlflow.{name}`"
        super().__init__(
            f"mlscope.{name}: {what} is not part of mlscope's client, which covers MLflow's tracking API (runs, params, "
            "metrics, tags, artifacts, datasets). Keep `import mlflow` for this script and point MLflow's own client at "
            "mlscope's tracking server:\n"
            "    mlscope server --backend-store-uri ./mlruns\n"
            "    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python train.py\n"
            "(README: \"mlscope as your tracking server\").",
            "NOT_IMPLEMENTED",
        )
        self.name = name


def is_mlflow_only(name: str) -> bool:
    return name in FLAVORS or name in OTHER_FEATURES
