"""Runs every course example in turn: ``pyflux-examples`` or ``python -m pyflux.examples``."""

from pyflux.examples import keras_tape, linear_regression


def main():
    for example in (keras_tape, linear_regression):
        print(f"== {example.__name__.rsplit('.', 1)[-1]}")
        example.main()


if __name__ == "__main__":
    main()
