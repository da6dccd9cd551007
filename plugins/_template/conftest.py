"""The template's tests run once it is copied into a plugin (new_plugin.py); its own package
``textrec_PLUGINNAME`` is never installed, so pytest collects nothing here."""

collect_ignore = ["tests"]
