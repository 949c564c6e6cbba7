"""What the dashboard's routes read through, one per application: the queries, the history, the names."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from processor.api.dashboard.history import LogHistory
from processor.api.dashboard.queries import DashboardQueries
from processor.api.services import Services, services

_created = threading.Lock()


@dataclass(slots=True)
class Dashboard:
    store: Services
    queries: DashboardQueries
    history: LogHistory
    history_ready: threading.Event

    def start_reading_history(self) -> None:
        """Read the decisions log in the background (seconds at 100,000 users); later calls catch up in place."""

        def read() -> None:
            self.history.catch_up()
            self.history_ready.set()

        threading.Thread(target=read, name="dashboard-history", daemon=True).start()

    def current_history(self) -> LogHistory | None:
        """The history caught up with the log, or None while it is first being read."""
        if not self.history_ready.is_set():
            return None
        self.history.catch_up()
        return self.history


def dashboard(request: Request, store: Annotated[Services, Depends(services)]) -> Dashboard:
    """The application's dashboard services, made on first use (a FastAPI dependency)."""
    state = request.app.state
    with _created:
        found: Dashboard | None = getattr(state, "dashboard", None)
        if found is None or found.store is not store:
            database = store.settings.database
            found = Dashboard(store, DashboardQueries(database, store.reads), LogHistory(database), threading.Event())
            found.start_reading_history()
            state.dashboard = found
    return found


Board = Annotated[Dashboard, Depends(dashboard)]
