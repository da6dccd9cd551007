"""textrec-data: labeling-tool exports imported into versioned line datasets (``textrec-data import``),
checked (``textrec-data verify``), and read back to the labelers as pre-annotated tasks
(``textrec-data export-tasks``)."""
