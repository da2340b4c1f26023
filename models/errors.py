"""Domain errors raised while turning bytes into pixels or pixels into vectors."""


class ImageError(ValueError):
    """Base class: the input cannot be used as an image. Messages are meant for people."""


class UnsupportedImage(ImageError):
    """The bytes are not an image in a supported format, or are damaged."""


class MissingImage(UnsupportedImage):
    """No file at the path given (a scan's list names one that is not there)."""


class ImageTooLarge(ImageError):
    """The image exceeds a configured byte, pixel or frame limit."""


class FeaturelessImage(ImageError):
    """A work of one flat colour: it would match every plain image of that colour."""


class ModelError(RuntimeError):
    """A model profile or weights file is invalid or cannot be loaded."""
