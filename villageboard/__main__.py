from villageboard.cli.main import main

raise SystemExit(main())
