# The demo's models: a logistic scorecard whose weights are an artifact of the model.
# Gatehouse stores it as the MLflow client would (mlflow.pyfunc.log_model with python_model=
# this file, "models from code"); mlflow.pyfunc.load_model("models:/credit-default@production")
# loads it.
import json
import math

import mlflow
from mlflow.pyfunc import PythonModel


class Scorecard(PythonModel):
    """A logistic scorecard: the probability of default from weighted features."""

    def load_context(self, context):
        with open(context.artifacts["weights"]) as f:
            spec = json.load(f)
        self.intercept = spec["intercept"]
        self.weights = spec["weights"]

    def predict(self, context, model_input, params=None):
        rows = model_input.to_dict(orient="records")
        out = []
        for row in rows:
            z = self.intercept + sum(w * float(row[k]) for k, w in self.weights.items())
            out.append(1.0 / (1.0 + math.exp(-z)))
        return out


mlflow.models.set_model(Scorecard())
