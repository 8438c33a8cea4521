from pmtype.cli import run

run()
