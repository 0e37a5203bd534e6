"""python -m services.alerts"""

from services.alerts.app import build

if __name__ == "__main__":
    build().run()
