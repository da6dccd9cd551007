"""textrec-sweep: hyper-parameter sweeps in W&B's sweep format, run offline with Optuna (``textrec-sweep``).

The package registers no component; it provides the ``textrec-sweep`` console script
(:mod:`textrec_sweep.cli`).
"""
