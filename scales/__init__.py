"""Built-in scale definitions (YAML data only).

This file exists so the YAML files install as package data and can be found with
``importlib.resources.files("scales")`` from a wheel or an editable install.
"""
