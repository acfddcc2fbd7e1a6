"""automl_studio.engine — the headless half of automl-studio.

Data flows through these modules in this order:

    dataset  → profile  → features  → space/templates → hypermodel → search → export
    (load)     (columns,   (arrays the  (what may vary)   (Keras)       (KerasTuner,  (.h5/.keras
                task)       model eats)                                  events)        + metadata)

``runner`` runs a whole search in a child process; ``cli`` is the command line. Nothing here
imports Qt, and the modules that do not train import neither TensorFlow nor Keras (checked by
import-linter, see pyproject.toml).
"""
