"""Stand-in for ``google.colab.output``: records the widget-manager calls instead of talking to Colab's
front end. Colab's built-in widget renderer knows ipywidgets 7 only; ipywidgets 8 needs
``enable_custom_widget_manager()`` first (Colab's own advice)."""

calls: list[str] = []


def enable_custom_widget_manager() -> None:
    calls.append("enable_custom_widget_manager")


def disable_custom_widget_manager() -> None:
    calls.append("disable_custom_widget_manager")


def clear(wait: bool = False, output_tags=()) -> None:
    calls.append("clear")
