from collections.abc import Callable
from typing import Any

# A proxy that renders as the translated text when used: typed as the str it stands for,
# which is how WTForms and Jinja use it (labels, messages).
class LazyString(str):
    def __init__(self, func: Callable[..., str], *args: Any, **kwargs: Any) -> None: ...
    def __html__(self) -> str: ...
