"""python -m services.deployer"""

from services.deployer.app import build

if __name__ == "__main__":
    build().run()
