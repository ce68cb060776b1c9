"""Guided lessons without Qt: the shipped lessons work on the real model, bad files fail clearly, progress lasts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnstudio.cli import main as cli_main
from attnstudio.lessons import (
    CheckResult,
    LessonError,
    LessonSession,
    Progress,
    SessionError,
    TokenRef,
    check_lesson_text,
    load_library,
    load_lesson,
    load_lesson_text,
    shipped_lessons,
    user_lessons_dir,
)
from attnstudio.lessons.refs import TokenNotFound
from attnstudio.lessons.session import setup_chain
from attnstudio.scene import Scene, SceneError

LESSON_DIR = resources.files("attnstudio").joinpath("data", "lessons")
SHIPPED_FILES = sorted(e.name for e in LESSON_DIR.iterdir() if e.name.endswith(".toml"))
SHIPPED_IDS = [lesson.id for lesson in shipped_lessons()]

GOOD = textwrap.dedent('''\
    format = "attnstudio-lesson"
    version = 1
    id = "tiny"
    title = "A tiny lesson"
    summary = "One step to read, one task to do."

    [[steps]]
    text = "Read me."

    [[steps]]
    text = "Do me."
    [steps.scene]
    variant = "uniform"
    focus = "black"
    [steps.task]
    check = { kind = "argmax", query = "black", key = "noir" }
    hint = "Switch the variant."
    solution = [{ settings = { variant = "scaled" } }]
    ''')


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- the shipped lessons ------------------------------------------------------------------------------

def test_eight_shipped_lessons_in_order_each_with_a_task():
    lessons = shipped_lessons()
    assert len(lessons) == len(SHIPPED_FILES) == 8
    assert [lesson.order for lesson in lessons] == list(range(1, 9))
    assert len(set(SHIPPED_IDS)) == 8
    for lesson in lessons:
        assert lesson.title and lesson.summary and lesson.origin == "shipped"
        assert lesson.task_count >= 1, f"{lesson.id} has no checked task"
        assert all(step.text for step in lesson.steps)


@pytest.mark.parametrize("name", SHIPPED_FILES)
def test_shipped_file_has_no_problem_at_all(name):
    text = LESSON_DIR.joinpath(name).read_text(encoding="utf-8")
    lesson, problems = check_lesson_text(text, name, "shipped")
    assert problems == []  # not even a warning
    assert lesson is not None


def _walk(lesson_id: str):
    """Open every step as a learner pressing Next would, yielding (session, step) after each opens."""
    lesson = next(lesson for lesson in shipped_lessons() if lesson.id == lesson_id)
    session = LessonSession(lesson, Scene())
    session.start(0)
    while True:
        yield session, session.step
        if not session.next():
            break


@pytest.mark.parametrize("lesson_id", SHIPPED_IDS)
def test_every_referenced_token_exists_in_its_scene(lesson_id):
    for session, step in _walk(lesson_id):
        scene = session.scene
        if step.setup.focus is not None:
            queries = [w.token.surface for w in scene.result().query_words]
            assert queries[scene.focus] == queries[step.setup.focus.find(queries)]
        if step.task is None:
            continue
        for check in step.task.checks:
            check.resolve_tokens(scene)  # raises TokenNotFound naming the missing word
            assert check.token_refs() or check.kind == "setting"
        assert len(session.solution_edits()) == len(step.task.solution)  # resolving raises EditError on a bad token
        session.apply_solution()


@pytest.mark.parametrize("lesson_id", SHIPPED_IDS)
def test_every_task_is_open_when_its_step_opens_and_met_by_its_solution(lesson_id):
    tasks = 0
    for session, step in _walk(lesson_id):
        if step.task is None:
            assert session.result is None
            continue
        tasks += 1
        opened = session.check()
        assert isinstance(opened, CheckResult) and not opened.passed, f"{step.id}: {opened.detail}"
        assert opened.detail
        solved = session.apply_solution()
        assert solved.passed, f"{step.id}: {solved.detail}"
        assert session.check().passed
    assert tasks >= 1


@pytest.mark.parametrize("lesson_id", SHIPPED_IDS)
def test_every_task_is_open_when_its_step_is_jumped_to(lesson_id):
    """Back, go_to and resume rebuild a step from its set-ups alone: still nothing is done for the learner."""
    lesson = next(lesson for lesson in shipped_lessons() if lesson.id == lesson_id)
    session = LessonSession(lesson, Scene())
    session.start(len(lesson.steps) - 1)
    for index in reversed(range(len(lesson.steps))):
        session.go_to(index)
        if session.step.task is not None:
            assert not session.check().passed, f"{session.step.id}: {session.result.detail}"


def test_measured_numbers_the_lessons_rely_on():
    """The thresholds of the shipped lessons were chosen from these numbers; if the model moves, so must they."""
    scene = Scene()
    row = scene.result().weights[1]  # "black"
    assert row[2] == pytest.approx(0.911, abs=0.005)  # "noir"
    assert scene.result().row_entropy()[1] == pytest.approx(0.429, abs=0.005)
    scene.set_settings(temperature=0.3)
    assert scene.result().row_entropy()[1] < 0.05
    scene.set_settings(temperature=20.0)
    assert scene.result().row_entropy()[1] > 1.9
    scene.set_settings(temperature=1.0, num_heads=4)
    heads = scene.result().head_weights[:, 1]  # (h, n_k): "black" in every head
    assert heads[0] == pytest.approx([1 / 7] * 7)  # head 1 (kinds only): nothing to ask
    assert heads[1][2] > 0.95  # head 2 (quality): "noir"
    assert heads[3].argmax() == 1 and heads[3][1] == pytest.approx(0.362, abs=0.005)  # head 4 (positions): "chat"


# -- the session --------------------------------------------------------------------------------------

def _lesson(lesson_id: str):
    return next(lesson for lesson in shipped_lessons() if lesson.id == lesson_id)


def test_leaving_gives_back_the_learners_own_scene_exactly():
    scene = Scene()
    scene.set_sentence("target", "The black dog")
    scene.set_settings(temperature=2.5)
    scene.set_override("source", 1, "k", 3, 1.25)
    mine = scene.to_dict()
    session = LessonSession(_lesson("queries-keys-values"), scene)
    session.start()
    assert scene.target == "The black cat sleeps on the couch" and not scene.overrides
    session.next()
    session.apply_solution()
    session.leave()
    assert scene.to_dict() == mine
    assert not session.active
    with pytest.raises(SessionError):
        session.next()


@pytest.mark.parametrize("error", [KeyError("a bug"), SceneError("a step that cannot apply")])
def test_a_start_that_fails_half_way_gives_the_learners_scene_back(monkeypatch, error):
    import attnstudio.lessons.session as session_module

    scene = Scene()
    scene.set_sentence("target", "The black dog")
    mine = scene.to_dict()
    real_apply = session_module.apply_setup

    def apply_then_fail(setup, target):
        real_apply(setup, target)  # the lesson's scene is half set up ...
        raise error  # ... when the next set-up fails

    monkeypatch.setattr(session_module, "apply_setup", apply_then_fail)
    session = LessonSession(_lesson("queries-keys-values"), scene)
    with pytest.raises(type(error)):
        session.start()
    assert scene.to_dict() == mine
    assert not session.active
    scene.set_sentence("target", "The black cat")  # the failed session no longer listens to the scene
    assert session.result is None


def test_live_check_follows_the_learners_edits_and_announces_the_first_pass():
    scene = Scene()
    session = LessonSession(_lesson("equal-weighting"), scene)
    seen: list[frozenset] = []
    session.changed.connect(seen.append)
    session.start(2)  # "own-mix": the rows are uniform
    assert scene.settings.variant == "uniform" and not session.result.passed
    assert "evenly" in session.result.detail
    seen.clear()
    scene.set_settings(variant="dot")  # the learner's own edit, not the session's
    assert session.result.passed
    assert frozenset({"passed"}) in seen and frozenset({"result"}) in seen
    scene.set_settings(variant="uniform")
    assert not session.result.passed


def test_prediction_one_guess_hides_weights_until_made_and_reset_allows_another():
    session = LessonSession(_lesson("spotlight"), Scene())
    session.start(1)
    state = session.state
    assert state.reveals_after_prediction and session.weights_hidden and state.can_predict
    noir = [w.token.surface for w in session.scene.result().key_words].index("noir")
    wrong = session.predict(noir - 1)
    assert not wrong.passed and "noir" in wrong.detail and not session.weights_hidden
    with pytest.raises(SessionError, match="already"):
        session.predict(noir)
    session.reset_step()
    assert session.weights_hidden and session.state.prediction is None
    assert session.predict(noir).passed


def test_steps_without_prediction_never_hide_weights():
    session = LessonSession(_lesson("scaling-temperature"), Scene())
    session.start()
    for _ in range(session.count):
        assert not session.weights_hidden
        with pytest.raises(SessionError):
            session.state.predict(0)
        session.next()


def test_reset_step_puts_back_the_set_up_and_back_rebuilds():
    scene = Scene()
    session = LessonSession(_lesson("queries-keys-values"), scene)
    session.start(2)  # "restore-query": the set-up bends the query of "black"
    opened = scene.to_dict()
    assert opened["overrides"]
    session.apply_solution()
    assert not scene.overrides and session.result.passed
    session.reset_step()
    assert scene.to_dict() == opened and not session.result.passed
    assert session.back() and session.step.id == "bend-query" and not scene.overrides
    assert session.hint.startswith("“chat” is the only animal")


def test_typing_the_computed_number_back_counts_as_restored():
    scene = Scene()
    session = LessonSession(_lesson("queries-keys-values"), scene)
    session.start(2)
    animal = scene.model.dimension_names.index("animal")
    scene.set_override("target", 1, "q", animal, 0.0)  # the computed value of q[animal] for "black"
    assert session.result.passed


def test_solution_edits_are_labelled_for_undo():
    session = LessonSession(_lesson("queries-keys-values"), Scene())
    session.start(1)
    (edit,) = session.solution_edits()
    assert edit.kind == "overrides" and edit.label == "Set q[animal] of “black” to 40"
    ((side, index, stage, dim), value), = edit.value.items()
    assert (side, index, stage, value) == ("target", 1, "q", 40.0)


def test_setup_chain_of_a_keep_step_starts_at_the_last_full_set_up():
    lesson = _lesson("equal-weighting")
    chain = setup_chain(lesson, 2)  # own-mix keeps what same-mix set
    assert [s.keep for s in chain] == [False, True]


def test_start_twice_and_bad_step_numbers_are_refused():
    session = LessonSession(_lesson("positions"), Scene())
    with pytest.raises(SessionError):
        session.start(99)
    session.start()
    with pytest.raises(SessionError):
        session.start()
    with pytest.raises(SessionError):
        session.go_to(-1)


# -- progress -----------------------------------------------------------------------------------------

def test_progress_survives_a_restart_and_resumes_where_the_learner_left(tmp_path):
    lesson = _lesson("scaling-temperature")
    progress = Progress.load(tmp_path / "data")
    session = LessonSession(lesson, Scene(), progress)
    session.start()
    session.next()  # leaves "why-root-d": a step without a task is done once read
    session.apply_solution()  # "no-scaling"
    session.next()
    assert session.step.id == "cold"
    session.leave()
    saved = json.loads((tmp_path / "data" / "progress.json").read_text(encoding="utf-8"))
    assert saved["format"] == "attnstudio-progress"

    restarted = Progress.load(tmp_path / "data")  # a new process would do just this
    record = restarted.lesson(lesson.id)
    assert record.current == "cold"
    assert record.done == {"why-root-d", "no-scaling"}
    assert record.passed == {"no-scaling"} and record.shown == {"no-scaling"}
    assert restarted.counts(lesson) == (2, 5, 1, 3)
    resumed = LessonSession(lesson, Scene(), restarted)
    resumed.start()
    assert resumed.step.id == "cold" and resumed.scene.settings.variant == "scaled"


def test_progress_of_a_step_that_no_longer_exists_is_ignored(tmp_path):
    (tmp_path / "progress.json").write_text(json.dumps({
        "format": "attnstudio-progress", "version": 1,
        "lessons": {"positions": {"current": "gone-step", "done": ["gone-step"], "passed": [], "shown": []}}}))
    progress = Progress.load(tmp_path)
    lesson = _lesson("positions")
    assert progress.resume_index(lesson) == 0 and progress.counts(lesson) == (0, 3, 0, 1)


@pytest.mark.parametrize("content", ["{not json", '{"format": "something-else", "version": 1}',
                                     '{"format": "attnstudio-progress", "version": 1, "lessons": {"a": {"done": 3}}}'])
def test_broken_progress_file_is_set_aside_not_fatal(tmp_path, content):
    (tmp_path / "progress.json").write_text(content)
    progress = Progress.load(tmp_path)
    assert progress.load_problem and "progress.json" in progress.load_problem
    assert (tmp_path / "progress.json.broken").read_text() == content
    progress.set_current("positions", "switch-on")
    assert Progress.load(tmp_path).lesson("positions").current == "switch-on"


def test_progress_save_failure_is_reported_not_raised(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    progress = Progress(blocker / "data")  # a folder under a file cannot be made
    failures: list[str] = []
    progress.save_failed.connect(failures.append)
    progress.mark_done("positions", "orderless")
    assert failures and "cannot" in failures[0]
    assert progress.lesson("positions").done == {"orderless"}


# -- malformed lesson files ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, content, expected", [
    ("empty.toml", "", "the file is empty"),
    ("blank.toml", "  \n\n", "the file is empty"),
    ("truncated.toml", GOOD[: GOOD.index("[steps.task]") + 20], "not valid TOML"),
    ("truncated2.toml", GOOD[: GOOD.index("[[steps]]")], "has no steps"),
    ("notoml.toml", "This is a lesson about attention.\nIt has no structure.", "not valid TOML"),
    ("binary.toml", b"\xff\xfe\x00garbage", "not UTF-8"),
    ("json.toml", '{"title": "x"}', "not valid TOML"),
    ("noformat.toml", 'title = "x"\nsummary = "y"\n[[steps]]\ntext = "z"\n', "not a lesson file"),
    ("newer.toml", GOOD.replace("version = 1", "version = 7"), "newer AttnStudio"),
    ("kind.toml", GOOD.replace('kind = "argmax"', 'kind = "argmin"'), "unknown kind 'argmin'"),
    ("token.toml", GOOD.replace('key = "noir"', 'key = "noire"'), "“noire” is not a word of the French sentence"),
    ("occurrence.toml", GOOD.replace('key = "noir"', 'key = "le#3"'), "there is no third “le”"),
    ("title.toml", GOOD.replace('title = "A tiny lesson"', "title = 3"), "title must be text, not a whole number"),
    ("fraction.toml", GOOD.replace('key = "noir" }', 'key = "noir", head = "two" }'), "head must be a head number"),
    ("setting.toml", GOOD.replace('variant = "scaled"', 'variant = "fast"'), "variant must be one of"),
    ("heads.toml", GOOD.replace('variant = "uniform"', "heads = 5"), "5 heads do not divide"),
    ("typo.toml", GOOD.replace("hint =", "hnit ="), "unknown key 'hnit'; did you mean 'hint'?"),
    ("nosolution.toml", GOOD.replace('solution = [{ settings = { variant = "scaled" } }]', ""), "needs a solution"),
    ("trivial.toml", GOOD.replace('variant = "uniform"\n', ""), "already met when the step opens"),
    ("impossible.toml", GOOD.replace('variant = "scaled"', 'variant = "uniform"'), "does not meet the task"),
    ("panel.toml", GOOD.replace('focus = "black"', 'focus = "black"\npanels = { show = ["heatmap"] }'),
     "unknown panel 'heatmap'; did you mean 'heatmapView'?"),
    ("prediction.toml", GOOD.replace('{ kind = "argmax", query = "black", key = "noir" }',
                                     '{ kind = "prediction", query = "black", key = "chat" }')
                            .replace('variant = "uniform"', 'variant = "scaled"'),
     "expects “black” to look most at “chat”"),
])
def test_malformed_lesson_gives_a_clear_error_naming_the_file(tmp_path, name, content, expected):
    path = write(tmp_path, name, content)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message
    assert info.value.problems and all(p.file == str(path) for p in info.value.problems)


def test_every_problem_is_reported_at_once_with_its_line_and_step():
    text = (GOOD.replace('kind = "argmax"', 'kind = "argmin"')
                .replace('title = "A tiny lesson"', "title = 3")
                .replace('text = "Read me."', 'text = "Read me."\ncolour = "red"'))
    lesson, problems = check_lesson_text(text, "many.toml")
    assert lesson is None
    assert len(problems) == 3
    title = next(p for p in problems if "title" in p.message)
    assert (title.line, title.step) == (line_of(text, "title = 3"), None)
    colour = next(p for p in problems if "colour" in p.message)
    assert (colour.line, colour.step) == (line_of(text, 'colour = "red"'), 1)
    kind = next(p for p in problems if "argmin" in p.message)
    assert (kind.line, kind.step) == (line_of(text, "argmin"), 2)
    assert str(kind).startswith(f"many.toml:{kind.line}: step 2: ")


def test_model_problems_point_at_the_step_and_the_line():
    text = GOOD.replace('key = "noir"', 'key = "noire"')
    _, problems = check_lesson_text(text, "t.toml")
    (problem,) = problems
    assert problem.step == 2 and problem.line == line_of(text, 'key = "noire"')  # the check's own line


def test_toml_syntax_error_has_its_line():
    text = GOOD.replace('hint = "Switch the variant."', 'hint = "Switch the variant.')
    _, problems = check_lesson_text(text, "t.toml")
    (problem,) = problems
    assert problem.line == line_of(text, "hint =")


def test_unreadable_path_is_a_lesson_error(tmp_path):
    with pytest.raises(LessonError, match="cannot read"):
        load_lesson(tmp_path)  # a folder
    with pytest.raises(LessonError, match="missing.toml"):
        load_lesson(tmp_path / "missing.toml")


def test_good_lesson_loads_with_default_step_ids_and_panels():
    lesson = load_lesson_text(GOOD, "good.toml")
    assert lesson.id == "tiny" and [s.id for s in lesson.steps] == ["step-1", "step-2"]
    assert lesson.steps[0].setup.keep and not lesson.steps[1].setup.keep
    assert lesson.steps[1].setup.panels.is_shown("queryKeySpace")
    assert lesson.steps[1].line == line_of(GOOD, "[[steps]]") + 3


# -- tokens -------------------------------------------------------------------------------------------

def test_token_references():
    words = ["Le", "chat", "noir", "dort", "sur", "le", "canapé"]
    assert TokenRef.parse("le").find(words) == 0  # case-insensitive: the first "le" is "Le"
    assert TokenRef.parse("le#2").find(words) == 5
    assert TokenRef.parse("CANAPÉ").find(words) == 6
    assert TokenRef.parse(3).find(words) == 2  # positions count from 1
    with pytest.raises(TokenNotFound, match="there is no third “le” in the sentence: it appears 2 times"):
        TokenRef.parse("le#3").resolve(words, "the sentence")
    with pytest.raises(TokenNotFound, match="there is no token 9"):
        TokenRef.parse(9).resolve(words, "the sentence")
    for bad in (0, "", True, 1.5, "le#0"):
        with pytest.raises(ValueError):
            TokenRef.parse(bad)


# -- user lessons -------------------------------------------------------------------------------------

def test_user_lessons_dir_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert user_lessons_dir() == tmp_path / "AttnStudio" / "lessons"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the XDG spec says: ignore it
    if sys.platform.startswith("linux"):
        assert user_lessons_dir() == Path.home() / ".local" / "share" / "AttnStudio" / "lessons"


def test_library_lists_shipped_then_user_lessons_and_keeps_broken_ones_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    folder = user_lessons_dir()
    folder.mkdir(parents=True)
    write(folder, "tiny.toml", GOOD)
    write(folder, "broken.toml", "nonsense = = 1")
    write(folder, "clash.toml", GOOD.replace('id = "tiny"', 'id = "spotlight"'))
    write(folder, "notes.txt", "not a lesson")
    library = load_library()
    assert [lesson.id for lesson in library.lessons] == SHIPPED_IDS + ["tiny"]
    assert library.get("tiny").origin == "user"
    assert sorted(Path(e.file).name for e in library.problems) == ["broken.toml", "clash.toml"]
    assert any("already used" in str(e) for e in library.problems)


def test_library_without_a_user_folder_is_just_the_shipped_lessons(tmp_path):
    assert [lesson.id for lesson in load_library(tmp_path / "nowhere").lessons] == SHIPPED_IDS


# -- the command line ---------------------------------------------------------------------------------

def test_cli_lesson_check_good_and_bad(tmp_path, capsys):
    good = write(tmp_path, "good.toml", GOOD)
    assert cli_main(["lesson", "check", str(good)]) == 0
    assert "good.toml: ok: 'A tiny lesson', 2 steps, 1 task" in capsys.readouterr().out
    text = GOOD.replace('kind = "argmax"', 'kind = "argmin"')
    bad = write(tmp_path, "bad.toml", text)
    assert cli_main(["lesson", "check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:{line_of(text, 'argmin')}: step 2: the check has an unknown kind 'argmin'" in out
    assert "bad.toml: 1 error; the lesson cannot be used" in out


def test_cli_lesson_check_shipped_files_all_pass(capsys):
    files = [str(LESSON_DIR.joinpath(name)) for name in SHIPPED_FILES]
    assert cli_main(["lesson", "check", *files]) == 0
    assert capsys.readouterr().out.count(": ok: ") == 8


def test_cli_lesson_check_in_a_real_process_without_qt(tmp_path):
    text = GOOD.replace('key = "noir"', 'key = "noire"')
    bad = write(tmp_path, "bad.toml", text)
    code = ("import sys; from attnstudio.cli import main; rc = main(sys.argv[1:]); "
            "assert 'PySide6' not in sys.modules, 'lesson check imported Qt'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, "lesson", "check", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    line = line_of(text, 'key = "noire"')
    assert f"{bad}:{line}: step 2: check 1 (argmax): “noire” is not a word" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "attnstudio", "lesson", "check", str(tmp_path / "missing.toml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "cannot read the lesson" in proc.stdout


def test_lessons_package_never_imports_qt():
    code = ("import sys, attnstudio.lessons as L; from attnstudio.scene import Scene; "
            "s = L.LessonSession(L.shipped_lessons()[0], Scene()); s.start(); s.next(); s.leave(); "
            "assert not [m for m in sys.modules if m.startswith('PySide6')]")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_show_me_can_go_through_the_guis_own_undoable_commands(tmp_path):
    scene = Scene()
    progress = Progress(tmp_path)
    session = LessonSession(_lesson("scaling-temperature"), scene, progress)
    session.start(2)  # "cold"
    pushed = []
    not_yet = session.apply_solution(apply_edit=pushed.append)  # a GUI would push commands here
    assert not not_yet.passed and scene.settings.temperature == 1.0
    assert [e.label for e in pushed] == ["Set temperature 0.3"]
    for edit in pushed:
        edit.apply(scene)  # ... and the command's redo() applies it
    assert session.result.passed
    assert progress.lesson("scaling-temperature").shown == {"cold"}
    assert progress.lesson("scaling-temperature").passed == {"cold"}


def test_a_prediction_made_on_the_step_state_is_announced_by_the_session():
    session = LessonSession(_lesson("many-heads"), Scene())
    seen: list[frozenset] = []
    session.changed.connect(seen.append)
    session.start(1)  # the position head: "black" looks at "chat"
    assert session.scene.head == 3 and session.weights_hidden
    session.state.predict(1)
    assert {"prediction", "result"} <= seen[-1] and session.result.passed


def test_opening_a_step_with_a_full_set_up_is_one_scene_change():
    scene = Scene()
    session = LessonSession(_lesson("many-heads"), scene)
    session.start(0)
    changes: list[frozenset] = []
    scene.changed.connect(changes.append)
    session.go_to(3)  # heads 4, head 2, focus "black": one document, one notification
    assert len(changes) == 1
    assert (scene.settings.num_heads, scene.head, scene.focus) == (4, 1, 1)


def test_the_complete_example_in_the_documentation_is_a_valid_lesson(tmp_path, capsys):
    docs = Path(__file__).resolve().parents[1] / "docs" / "lessons.md"
    text = docs.read_text(encoding="utf-8")
    example = text.split("### A complete example", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path, "black-cat.toml", example)
    assert cli_main(["lesson", "check", str(path)]) == 0, capsys.readouterr().out
    lesson = load_lesson(path)
    assert lesson.id == "black-cat" and lesson.task_count == 3


def test_a_problem_in_a_list_of_checks_names_and_locates_that_check():
    text = textwrap.dedent('''\
        format = "attnstudio-lesson"
        version = 1
        title = "t"
        summary = "s"

        [[steps]]
        text = "x"
        [steps.task]
        checks = [
            { kind = "argmax", query = "black", key = "noir" },
            { kind = "weight", query = "black", key = "noir" },
        ]
        solution = [{ focus = "cat" }]
        ''')
    _, problems = check_lesson_text(text, "t.toml")
    (problem,) = problems
    assert problem.message == "check 2 (weight) needs at_least or at_most (or both)"
    assert problem.line == line_of(text, '{ kind = "weight"')


_ODD_VALUES = ['1', '-3', '0', '1.5e308', '"x"', 'true', '[]', '{}', '[1, "a"]', '{ a = 1 }', '"le#0"', '"#3"',
               'nan', 'inf', '"q"', '{ kind = "weight" }', '[{}]', '[{ head = 9 }]', '[{ settings = { heads = 3 } }]',
               '[{ override = { token = "black", stage = "q", dim = 99, value = 1 } }]', '"""unclosed']


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(["value", "delete", "cut"]),
                                st.sampled_from(_ODD_VALUES)), min_size=1, max_size=3))
def test_a_mangled_lesson_never_crashes_the_reader(edits):
    lines = GOOD.splitlines()
    for where, how, value in edits:
        i = where % len(lines)
        if how == "delete":
            del lines[i]
        elif how == "cut":
            lines[i] = lines[i][: len(lines[i]) // 2]
        elif "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + value
        if not lines:
            break
    text = "\n".join(lines)
    lesson, problems = check_lesson_text(text, "mangled.toml")  # never raises
    assert (lesson is None) == any(p.severity == "error" for p in problems)
    try:
        load_lesson_text(text, "mangled.toml")
    except LessonError as exc:
        assert str(exc).startswith("mangled.toml")


def test_odd_unknown_keys_are_reported_on_their_line():
    text = GOOD.replace('summary = "One step to read, one task to do."',
                        'summary = "One step to read, one task to do."\n"a+(b" = 1')
    _, problems = check_lesson_text(text, "t.toml")
    (problem,) = problems
    assert "unknown key 'a+(b'" in problem.message and problem.line == line_of(text, '"a+(b"')
