"""textrec-eval: measure a saved model bundle on a dataset's test split (CER, WER, speed, worst lines).

The package registers no component; it provides the ``textrec-eval`` console script
(:mod:`textrec_eval.cli`).
"""
