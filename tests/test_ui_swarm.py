"""The swarm panes in the app, against the swarm lab: Services (scale, rolling update to a private
image, tasks, logs, remove), Nodes (drain confirmed; pause and activate not), Tasks, Stacks with
secrets/configs, the Hosts row of a worker, read-only mode."""

from __future__ import annotations

import uuid

from fleet_hosts import config, ssh_host, unix_host
from helpers import make_app, screen_text, showing, svg_text, table_rows, tabs, until
from lab import IMAGE
from dockyard.ui.dialogs.ask import AskDialog
from dockyard.ui.dialogs.confirm import ConfirmDialog
from dockyard.ui.dialogs.info import TextDialog
from dockyard.ui.logs import LogsScreen

SIZE = (170, 45)


def swarm_config(swarm, **kw):
    return config(*(unix_host(swarm.nodes[n].daemon, n) for n in ("a1", "a2", "a3", "b1")), **kw)


def row_named(app, pane, column, value):
    return next((r for r in table_rows(app, pane) if r[column] == value), None)


def put_cursor(app, pane, column, value):
    rows = table_rows(app, pane)
    index = next(i for i, r in enumerate(rows) if r[column] == value)
    app.panes[pane].table.move_cursor(row=index)


async def on_node(pilot, node: str, key: str) -> None:
    """Put the Nodes pane's cursor on `node` and press `key`."""
    put_cursor(pilot.app, "nodes", "HOSTNAME", node)
    await pilot.press(key)


async def node_shows(app, node: str, column: str, value: str, what: str) -> None:
    await until(lambda: row_named(app, "nodes", "HOSTNAME", node)[column] == value, 20, what)


async def ask(pilot, field: str, value: str, what: str) -> None:
    """Wait for the ask dialog, fill its `field`, and submit it (ctrl+r)."""
    await until(lambda: showing(pilot.app, AskDialog), 5, what)
    pilot.app.screen.query_one(field).value = value
    await pilot.press("ctrl+r")


async def test_services_pane_scale_update_tasks_logs_remove(swarm, swarm_services, swarm_registry, monkeypatch):
    """`u` updates to a private image: the app sends the `docker login` of its registry, the nodes pull it."""
    name = swarm_services("ui-" + uuid.uuid4().hex[:6], replicas=1,
                   cmd=("sh", "-c", "echo up on $(hostname); sleep 100000"),
                   args=("--update-monitor", "200ms", "--update-delay", "0s"))
    private = swarm_registry.push()
    monkeypatch.setenv("DOCKER_CONFIG", str(swarm_registry.docker_config))
    app, notes = make_app(swarm_config(swarm))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        await until(lambda: (row_named(app, "services", "NAME", name) or {}).get("REPLICAS") == "1/1", 20,
                    "the service listed, 1/1")
        row = row_named(app, "services", "NAME", name)
        assert (row["SWARM"], row["MODE"], row["IMAGE"]) == ("a1", "replicated", IMAGE)

        put_cursor(app, "services", "NAME", name)
        await pilot.press("s")
        await ask(pilot, "#ask-replicas", "2", "scale dialog")
        await until(lambda: row_named(app, "services", "NAME", name)["REPLICAS"] == "2/2", 20, "2/2 on screen")

        put_cursor(app, "services", "NAME", name)
        await pilot.press("u")
        await ask(pilot, "#ask-image", private, "update dialog")
        seen_updating = []

        def done() -> bool:
            row = row_named(app, "services", "NAME", name) or {}
            seen_updating.append(row.get("UPDATE", ""))
            return row.get("UPDATE") == "completed" and row.get("IMAGE") == private and row.get("REPLICAS") == "2/2"

        await until(done, 60, "rolling update completed on screen")
        assert any(u.startswith("updating") for u in seen_updating), seen_updating

        put_cursor(app, "services", "NAME", name)
        await pilot.press("enter")  # its tasks: the new ones running, the replaced ones shut down
        await until(lambda: app.panes["services"].showing is not None, 5, "tasks view")
        tasks = table_rows(app, "services")
        running = [t for t in tasks if t["DESIRED"] == "running" and t["CURRENT"].startswith("running")]
        assert sorted(t["SERVICE.SLOT"] for t in running) == [f"{name}.1", f"{name}.2"]
        assert all(t["IMAGE"] == private for t in running)
        assert any(t["DESIRED"] == "shutdown" and t["IMAGE"] == IMAGE for t in tasks)
        await pilot.press("escape")
        await until(lambda: app.panes["services"].showing is None, 5, "services again")

        put_cursor(app, "services", "NAME", name)
        await pilot.press("l")
        await until(lambda: showing(app, LogsScreen) and app.screen.log_widget.item_count >= 2, 20, "logs lines")
        lines = [item for item in app.screen.log_widget.items() if hasattr(item, "text")]
        assert {line.source.label.split("@")[0] for line in lines} <= {f"a1/{name}.1", f"a1/{name}.2"}  # SWARM/TASK@NODE
        assert all(line.text.startswith("up on ") for line in lines)
        await pilot.press("escape")

        put_cursor(app, "services", "NAME", name)
        await pilot.press("ctrl+d")
        await until(lambda: showing(app, ConfirmDialog), 5, "remove confirmation")
        assert "swarm a1" in app.screen.title_text and app.screen.targets[0][0] == "a1"
        await pilot.press("y")
        await until(lambda: row_named(app, "services", "NAME", name) is None, 20, "gone from the pane")
    assert name not in swarm.a1.docker("service", "ls", "--format", "{{.Name}}").stdout.split()
    assert not any(swarm_registry.password in message for message, _ in notes)


async def test_nodes_tasks_stacks_hosts_panes(swarm, swarm_services):
    stack = "st" + uuid.uuid4().hex[:6]
    name = swarm_services(f"{stack}_web", replicas=1, labels={"com.docker.stack.namespace": stack})
    swarm.a1.docker("secret", "create", "--label", f"com.docker.stack.namespace={stack}", f"{stack}_key", "-",
                    input="secret-content-never-shown")
    app, notes = make_app(swarm_config(swarm))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("9")
        await until(lambda: len(table_rows(app, "nodes")) == 4, 20, "four nodes")
        nodes = {r["HOSTNAME"]: r for r in table_rows(app, "nodes")}
        assert (nodes["a1"]["SWARM"], nodes["a1"]["MANAGER"], nodes["a3"]["ROLE"]) == ("a1", "leader", "worker")
        assert nodes["b1"]["SWARM"] == "b1"

        await on_node(pilot, "a3", "d")
        await until(lambda: showing(app, ConfirmDialog), 5, "drain confirmation")
        assert "node a3 of swarm a1" in app.screen.title_text  # names the node and its swarm
        await pilot.press("y")
        try:
            await node_shows(app, "a3", "AVAILABILITY", "drain", "drained")
            await on_node(pilot, "a3", "a")  # activate: no confirmation
            await node_shows(app, "a3", "AVAILABILITY", "active", "active")
            await on_node(pilot, "a3", "p")  # pause: no new tasks there, its tasks stay; not confirmed
            await node_shows(app, "a3", "AVAILABILITY", "pause", "paused")
            assert not showing(app, ConfirmDialog)
            assert swarm.a1.docker("node", "inspect", "a3", "--format", "{{.Spec.Availability}}").stdout.strip() \
                == "pause"
            await on_node(pilot, "a3", "a")
            await node_shows(app, "a3", "AVAILABILITY", "active", "active again")
            await on_node(pilot, "a3", "plus")
            await ask(pilot, "#ask-label", "zone=east", "label dialog")
            await node_shows(app, "a3", "LABELS", "zone=east", "labelled")
            await on_node(pilot, "a3", "minus")
            await ask(pilot, "#ask-key", "zone", "unlabel dialog")
            await node_shows(app, "a3", "LABELS", "", "label gone")

            await on_node(pilot, "a3", "P")  # promote: confirmed, naming the swarm
            await until(lambda: showing(app, ConfirmDialog), 5, "promote confirmation")
            assert "swarm a1" in app.screen.title_text
            await pilot.press("y")
            await node_shows(app, "a3", "ROLE", "manager", "promoted")
            # a new manager is demoted once it has joined the managers' quorum, as a user would see it
            await until(lambda: row_named(app, "nodes", "HOSTNAME", "a3")["MANAGER"] in ("reachable", "leader"),
                        30, "a3 reachable as a manager")
            await on_node(pilot, "a3", "D")
            await until(lambda: showing(app, ConfirmDialog), 5, "demote confirmation")
            await pilot.press("y")
            await node_shows(app, "a3", "ROLE", "worker", "demoted")
        finally:
            swarm.a1.docker("node", "update", "--availability", "active", "--label-rm", "zone", "a3", check=False)
            swarm.a1.docker("node", "demote", "a3", check=False)

        await pilot.press("8")
        await until(lambda: row_named(app, "tasks", "SERVICE.SLOT", f"{name}.1") is not None, 20, "its task")
        task = row_named(app, "tasks", "SERVICE.SLOT", f"{name}.1")
        assert task["NODE"] in ("a1", "a2", "a3") and task["DESIRED"] == "running"

        # a task that failed: its error on the row, and in full (with the message) on enter
        bad = swarm_services("bad-" + uuid.uuid4().hex[:6], replicas=1, wait=False, cmd=("sh", "-c", "exit 3"),
                             args=("--restart-condition", "none"))
        await pilot.press("a")  # every task, not only those meant to run
        await until(lambda: "non-zero exit (3)" in (row_named(app, "tasks", "SERVICE.SLOT", f"{bad}.1") or {}).get(
            "ERROR", ""), 30, "the failed task and its error")
        assert row_named(app, "tasks", "SERVICE.SLOT", f"{bad}.1")["CURRENT"].startswith("failed")
        put_cursor(app, "tasks", "SERVICE.SLOT", f"{bad}.1")
        await pilot.press("enter")
        await until(lambda: showing(app, TextDialog), 5, "task details")
        assert "non-zero exit (3)" in screen_text(app.screen) and "Message" in screen_text(app.screen)
        await pilot.press("escape")

        await pilot.press("0")
        await until(lambda: row_named(app, "stacks", "STACK", stack) is not None, 20, "the stack")
        row = row_named(app, "stacks", "STACK", stack)
        assert (row["SWARM"], row["SERVICES"], row["REPLICAS"], row["SECRETS"]) == ("a1", "1", "1/1", f"{stack}_key")
        await pilot.press("v")
        await until(lambda: row_named(app, "stacks", "NAME", f"{stack}_key") is not None, 5, "the secret listed")
        assert "secret-content-never-shown" not in str(table_rows(app, "stacks"))
        await pilot.press("v")
        await until(lambda: row_named(app, "stacks", "STACK", stack) is not None, 5, "stacks again")
        put_cursor(app, "stacks", "STACK", stack)
        await pilot.press("ctrl+d")  # confirmed with the list of what goes
        await until(lambda: showing(app, ConfirmDialog), 5, "stack removal confirmation")
        assert "swarm a1" in app.screen.title_text
        assert app.screen.targets == [("a1", f"service {name}"), ("a1", f"secret {stack}_key")]
        await pilot.press("y")
        await until(lambda: row_named(app, "stacks", "STACK", stack) is None, 30, "the stack gone")
        assert f"{stack}_key" not in swarm.a1.docker("secret", "ls", "--format", "{{.Name}}").stdout.split()

        await pilot.press("1")
        await until(lambda: "swarm worker a1 (swarm " in (row_named(app, "hosts", "NAME", "a3") or {}).get("REASON", ""),
                    20, "a3 shows it is a swarm worker")
        assert row_named(app, "hosts", "NAME", "a1")["REASON"] == "swarm manager a1"


async def test_read_only_hides_and_refuses_swarm_changes(swarm, swarm_services):
    name = swarm_services("ro-" + uuid.uuid4().hex[:6], replicas=1)
    app, notes = make_app(swarm_config(swarm), readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("7")
        await until(lambda: row_named(app, "services", "NAME", name) is not None, 20, "listed")
        put_cursor(app, "services", "NAME", name)
        for key in ("s", "u", "R", "r", "ctrl+d"):
            await pilot.press(key)
            await pilot.pause()
            assert not showing(app, AskDialog) and not showing(app, ConfirmDialog), key
        screen = svg_text(app)
        assert "Logs" in screen and "Scale" not in screen and "Rollback" not in screen  # the footer hides them
        await pilot.press("colon", *"nodes", "enter")  # `:nodes` shows the Nodes pane
        await until(lambda: app.active_pane.pane_id == "nodes" and len(table_rows(app, "nodes")) == 4, 20, "nodes")
        put_cursor(app, "nodes", "HOSTNAME", "a3")
        await pilot.press("d")
        await pilot.pause()
        assert not showing(app, ConfirmDialog)
    assert swarm.a1.docker("node", "inspect", "a3", "--format", "{{.Spec.Availability}}").stdout.strip() == "active"
    assert len(swarm.running_tasks(name)) == 1


async def test_a_swarm_no_manager_answers_for_says_so(swarm, lab):
    """Swarm A reached only over SSH to a1: when that sshd goes away, its rows go and the pane's
    header says no manager answered (swarm B stays)."""
    sshd = lab.new_sshd(docker_socket=swarm.a1.daemon.socket)
    try:
        cfg = config(ssh_host(lab, swarm.a1.daemon, sshd, name="a1", known_hosts=sshd.known_hosts),
                     unix_host(swarm.b1.daemon, "b1"))
        app, notes = make_app(cfg)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("9")
            await until(lambda: {r["SWARM"] for r in table_rows(app, "nodes")} == {"a1", "b1"}, 20, "both swarms")
            sshd.stop()
            app.fleet.swarm.refresh()
            await until(lambda: "no manager answered" in tabs(app), 30, "the header says why")
            assert "swarm a1" in tabs(app)
            assert {r["SWARM"] for r in table_rows(app, "nodes")} == {"b1"}
    finally:
        sshd.stop()
        lab.extra_sshds.remove(sshd)
