"""Model code: features, preprocessing_fn, the Keras model and run_fn."""
