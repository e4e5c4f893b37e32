"""The Registries pane lists the registry the fleet already pulls from, without any configuration,
says how to add one, and shows each tag's digest, size and created once its row is on screen.
Real lab (dockerd + docker-registry), the app headless; Docker Hub left out by the config."""

from __future__ import annotations

import re
import uuid

from helpers import make_app, svg_text, table_rows, until
from dockyard.config import load_config


async def test_a_registry_the_hosts_use_is_listed_and_its_tags_show_digest_size_created(lab, tmp_path):
    repo = "inuse/" + uuid.uuid4().hex[:6]
    registry = lab.registry.host
    for tag in ("1.0", "2.0"):
        ref = f"{registry}/{repo}:{tag}"
        lab.d1.docker("tag", "dockyard-test/busybox:latest", ref)
        lab.d1.docker("push", ref)
    # no [[registries]] at all, and no Docker Hub: the pane knows the registry only from the fleet
    cfg = load_config(str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",), registries=False,
                                           docker_hub=False)))
    app, _ = make_app(cfg)
    async with app.run_test(size=(180, 40)) as pilot:
        await app.fleet.wait_settled(10)
        await pilot.press("6")
        pane = app.panes["registries"]
        await until(lambda: any(r["REGISTRY"] == registry for r in table_rows(app, "registries")), 15,
                    "the registry the fleet uses")
        row = next(r for r in table_rows(app, "registries") if r["REGISTRY"] == registry)
        assert row["URL"] == f"http://{registry}" and row["SOURCE"].startswith("in use: unix1"), row
        assert "docker.io" not in {r["REGISTRY"] for r in table_rows(app, "registries")}
        await until(lambda: "[[registries]]" in svg_text(app) and "http://" in svg_text(app), 5,
                    "how to add one, in the pane", pilot=pilot)
        pane.table.move_cursor(row=next(i for i, r in enumerate(table_rows(app, "registries"))
                                        if r["REGISTRY"] == registry))
        await pilot.press("enter")  # its repositories (the lab registry has a catalog)
        await until(lambda: any(r.get("REPOSITORY") == repo for r in table_rows(app, "registries")), 15, "repo")
        pane.table.move_cursor(row=next(i for i, r in enumerate(table_rows(app, "registries"))
                                        if r.get("REPOSITORY") == repo))
        await pilot.press("enter")

        def tags():
            return {r["TAG"]: r for r in table_rows(app, "registries") if "TAG" in r}

        await until(lambda: set(tags()) == {"1.0", "2.0"} and all(r["DIGEST"] != "…" for r in tags().values()),
                    15, f"both tags with their digests: {tags()}")
        for tag, r in tags().items():
            assert r["DIGEST"].startswith("sha256:"), r
            assert re.fullmatch(r"\d+(\.\d+)?[kM]B", r["SIZE"]), r  # as docker images prints sizes
            assert r["CREATED"].endswith("ago"), r
        assert tags()["1.0"]["DIGEST"] == tags()["2.0"]["DIGEST"]  # the same image under two tags
    for tag in ("1.0", "2.0"):
        lab.d1.docker("rmi", f"{registry}/{repo}:{tag}", check=False)
