"""Runs every course example in turn."""

from pyflux.examples import keras_tape, linear_regression

for example in (keras_tape, linear_regression):
    print(f"== {example.__name__.rsplit('.', 1)[-1]}")
    example.main()
