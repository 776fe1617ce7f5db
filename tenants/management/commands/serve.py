"""Run the platform: gunicorn (web) and a procrastinate worker side by side.

Either process ending stops the other, so a supervisor (systemd, a container runtime)
sees one service. More workers on other machines: ``manage.py procrastinate worker``.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve every platform with gunicorn and run a background worker."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("HARMONIA_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 3))
        )
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args, bind, workers, no_worker, **options):
        env = {**os.environ}
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "harmonia.wsgi",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
            *(
                # the access log as JSON lines with the request id, like the application's
                ["--logger-class", "harmonia.logs.GunicornJsonLogger"]
                if settings.HARMONIA_LOG_FORMAT == "json"
                else []
            ),
            "--timeout",
            "120",
        ]
        processes = [subprocess.Popen(web, env=env)]  # noqa: S603
        if not no_worker:
            worker = [sys.executable, "manage.py", "procrastinate", "worker"]
            processes.append(subprocess.Popen(worker, env=env))  # noqa: S603
        self.stdout.write(f"Harmonia : http://{bind} (plateformes sur <code>.{bind.split(':')[0]})")

        def stop(*_):
            for process in processes:
                if process.poll() is None:
                    process.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        finally:
            stop()
            for process in processes:
                process.wait(timeout=30)
        return None
