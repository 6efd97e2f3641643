"""The model: what it consumes (`features`: one record per feature, the label rule, the `_xf`
naming), how raw columns become its inputs (`preprocessing`: Transform's `preprocessing_fn`),
and the Keras model with its `run_fn` (`model`). No pipeline code here; TFX runs these."""
