"""What the survey tests share (tests/procedures, tests/runner): the example survey plan
with its parameters changed, and the survey table a run wrote."""

import csv

import yaml

from pcsdaq.station import packaged_config

EXAMPLE = packaged_config("plan-survey.example.yaml")


def survey_plan(tmp_path, station, **parameters):
    """tmp_path/plan.yaml: the example survey plan on ``station`` (a station file path),
    its step's parameters updated with ``parameters``."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["station"] = str(station)
    data["steps"][0]["parameters"].update(parameters)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def survey_rows(folder):
    """The rows of the one survey-*.csv in ``folder``, as dicts."""
    (path,) = folder.glob("survey-*.csv")
    with path.open() as f:
        return list(csv.DictReader(f))
