"""automl_studio.gui — the desktop app (PySide6) on top of the engine.

The window follows the workflow, one page per step, each in its own module:

    app          → main_window → data_page    → network_page  → search_page        → results_page
    (launch)       (menus,       (load_worker,   (templates;     (search_worker,       (confusion matrix,
                    projects)     table_models)   a node editor)  trials_model,          export in a
                                                                   live_plots,           child process)
                                                                   trial_store)

The Search page's ``trial_store`` is the one copy of the trials: the engine's typed events feed
it, and the trials table, the live plots, the Results page and the Compare page (``compare_page``:
brushable ``parallel_coordinates``, importance and score plots in ``trial_plots``, trials side by
side in ``comparison_model``, all read by the engine's ``search.analysis``) show it. ``tasks`` runs plain
functions off the GUI thread; ``settings_store`` keeps what the window
remembers; ``widgets``, ``undo``, ``paths`` and ``qt_workarounds`` are small shared helpers.
Nothing here imports TensorFlow, Keras or KerasTuner (checked by import-linter): training and
exporting run in the engine's child processes.
"""
