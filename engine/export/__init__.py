"""Step 5: the best model on disk — writers, model metadata, predicting with an exported model."""
