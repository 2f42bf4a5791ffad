# MLflow's classic tracking quickstart (examples/quickstart/mlflow_tracking.py), with only the
# import changed: it logs to ./mlruns through mlscope, and MLflow reads the run back unchanged.
import os
from random import randint, random

import mlscope as mlflow

if __name__ == "__main__":
    print("Running mlflow_tracking.py")

    mlflow.log_param("param1", randint(0, 100))

    mlflow.log_metric("foo", random())
    mlflow.log_metric("foo", random() + 1)
    mlflow.log_metric("foo", random() + 2)

    if not os.path.exists("outputs"):
        os.makedirs("outputs")
    with open("outputs/test.txt", "w") as f:
        f.write("hello world!")

    mlflow.log_artifacts("outputs")
