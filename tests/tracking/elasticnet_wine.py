"""A wine-quality ElasticNet run shaped like MLflow's sklearn_elasticnet_wine example (the test swaps the imports).

The UCI wine-quality CSV is not downloaded (tests run offline): a seeded frame with
its columns (11 physicochemical measures and a 3-9 quality score) stands in for it.
"""

import sys

import mlflow  # the test replaces this line
import numpy as np
import pandas as pd
from sklearn.linear_model import ElasticNet
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

COLUMNS = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides", "free sulfur dioxide",
           "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"]


def wine_quality_frame(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(40)
    features = pd.DataFrame(rng.normal(size=(rows, len(COLUMNS))), columns=COLUMNS)
    score = 5.6 + 0.4 * features["alcohol"] - 0.3 * features["volatile acidity"] + 0.2 * rng.normal(size=rows)
    return features.assign(quality=score.round().clip(3, 9).astype(int))


def log_the_model(model: ElasticNet, run_id: str) -> None:
    mlflow.sklearn.log_model(model, name="model", registered_model_name="ElasticnetWineModel")  # the test may replace this line


if __name__ == "__main__":
    np.random.seed(40)
    train, test = train_test_split(wine_quality_frame())
    train_x, test_x = train.drop(["quality"], axis=1), test.drop(["quality"], axis=1)
    train_y, test_y = train[["quality"]], test[["quality"]]
    alpha = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    l1_ratio = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    mlflow.set_experiment("elasticnet-wine")
    with mlflow.start_run(run_name="elasticnet") as run:
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42).fit(train_x, train_y)
        predicted = model.predict(test_x)
        mlflow.log_param("alpha", alpha)
        mlflow.log_param("l1_ratio", l1_ratio)
        mlflow.log_metric("rmse", float(np.sqrt(mean_squared_error(test_y, predicted))))
        mlflow.log_metric("r2", float(r2_score(test_y, predicted)))
        mlflow.log_metric("mae", float(mean_absolute_error(test_y, predicted)))
        log_the_model(model, run.info.run_id)
