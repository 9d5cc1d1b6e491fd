"""Runs every course example in turn: ``pyflux-examples`` or ``python -m pyflux.examples``."""

from pyflux.examples import (
    higham,
    keras_tape,
    linear_regression,
    mnist_keras,
    mnist_lecture,
)


def main():
    for example in (keras_tape, linear_regression, higham, mnist_lecture, mnist_keras):
        print(f"== {example.__name__.rsplit('.', 1)[-1]}")
        example.main()


if __name__ == "__main__":
    main()
