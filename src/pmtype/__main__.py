from pmtype.console import main

main()
