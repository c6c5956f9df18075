"""rixsim — cluster-model sXAS and mRIXS of battery materials."""
__version__ = "0.1.0"
