def tag(name, value):
    """One Datadog tag; commas and spaces would split it, so they become underscores."""
    return name + ":" + "_".join(str(value).replace(",", " ").split())
