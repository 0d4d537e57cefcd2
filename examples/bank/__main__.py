"""``python -m examples.bank``: tell the bank's story on standard output."""

from examples.bank.app import main

if __name__ == "__main__":
    main()
