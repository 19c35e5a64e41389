__version__ = "0.0.1"

def __getattr__(name): # `from captionlab import CaptionModel` imports it on first use: `import captionlab` stays light
    if name == 'CaptionModel':
        from .model import CaptionModel
        return CaptionModel
    raise AttributeError(f"module 'captionlab' has no attribute {name!r}")
