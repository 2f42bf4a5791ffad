"""mlscope: open a folder of MLflow runs in the browser, fast; log runs with MLflow's API names."""

__version__ = "0.1.0"
