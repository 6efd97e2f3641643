"""What only Kubeflow Pipelines needs: profiles, the portability check, compile and submit."""
