"""``python -m examples.bank``: tell the bank's story on standard output."""

import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from examples.bank.app import main
from examples.bank.storage import MEMORY, URL_VARIABLE, demo_url

if __name__ == "__main__":
    try:
        main()
    except SQLAlchemyError as error:  # e.g. the server is down or the database does not exist
        cause = error.orig if isinstance(error, DBAPIError) else error
        url = demo_url()
        shown = url if url == MEMORY else make_url(url).render_as_string(hide_password=True)
        sys.exit(f"The demo cannot use {shown} ({URL_VARIABLE}): {str(cause).splitlines()[0]}")
