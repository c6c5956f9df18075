"""Exception hierarchy of rixsim.

Every error the library raises on purpose derives from :class:`RixsimError`, so a caller can catch
rixsim's own complaints apart from bugs.  Messages name the bad value and what is allowed.
"""


class RixsimError(Exception):
    """Base class of all errors raised deliberately by rixsim."""


class InputError(RixsimError, ValueError):
    """A user-supplied value is invalid (unknown ion, bad axis, negative width, ...)."""


class UnknownIonError(InputError, KeyError):
    """An ion, element or valence is not in the reference tables."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ConvergenceError(RixsimError, RuntimeError):
    """An iterative solver or a fit did not converge."""


class FileExistsRefusal(RixsimError, FileExistsError):
    """An output file exists and overwriting was not asked for."""


class MemoryBudgetError(InputError, MemoryError):
    """A computation would need more memory than its budget; the message names both sizes.

    Raised *before* the work starts (see :func:`rixsim.memory.plan`), so nothing is half-computed.
    """


class RixsimWarning(UserWarning):
    """Base class of the warnings rixsim issues on purpose (``warnings.simplefilter("error", RixsimWarning)``
    turns them all into errors)."""


class SuspiciousInputWarning(RixsimWarning):
    """An input is legal but almost surely a mistake (keV given for eV, an emission axis far from every
    emission, an all-zero result); the message names the value and what was expected."""
