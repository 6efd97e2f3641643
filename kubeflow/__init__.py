"""What only Kubeflow Pipelines needs: target profiles (`profile`, validated, credentials
refused), the portability check and compile with KubeflowV2DagRunner (`compile`), a run's
submission (`submit`), and the image (`Dockerfile`)."""
