"""The model: what it consumes (`features`: one record per feature, the label rule, the `_xf`
naming), how raw columns become its inputs (`preprocessing`: Transform's `preprocessing_fn`),
and the Keras model with its `run_fn` (`model`). No pipeline code here; TFX runs these."""

# The functions TFX runs, by dotted path, and the modules that hold them: the pipeline
# definition names them, and code fingerprints of these modules key Transform and Trainer.
PREPROCESSING_FN = "models.preprocessing.preprocessing_fn"  # Transform
RUN_FN = "models.model.run_fn"  # Trainer
PREPROCESSING_MODULE, MODEL_MODULE = (f.rsplit(".", 1)[0] for f in (PREPROCESSING_FN, RUN_FN))
