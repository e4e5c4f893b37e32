"""The headless CLI (`dockyard COMMAND`): main.py parses and runs; registry_cmd.py and swarm_cmd.py
hold the `registry` and swarm commands. Same fleet and registries as the TUI, no Textual."""
