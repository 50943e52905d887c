"""A small Chinese text and a tiny model trained on it, for AppTest tests of texts without spaces between words.

103 different characters (more than the embedding map writes out), written for these tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from app_pages import TINY

CHINESE = (
    "我们今天去公园散步，看见很多小朋友在草地上玩。天气很好，太阳照在湖面上，风吹过树叶，发出沙沙的声音。\n"
    "老师说：“学习要认真，也要多休息。”同学们都点头笑了。\n"
    "晚上回到家里，妈妈做了米饭和青菜，爸爸在读一本关于山水的书。\n"
    "窗外下起了小雨，烟雨中的江南像一幅画。（这是一个很短的故事）\n"
) * 8
CHINESE_NAME = "gushi.txt"


def train_chinese_run(root: Path) -> Path:
    """The tiny settings of app_pages.TINY, two epochs on CHINESE, saved under `root`."""
    from charlab.learning.training import TrainingJob
    from charlab.network.model import ModelConfig

    progress = TrainingJob(
        CHINESE, ModelConfig(**TINY, epochs=2), name="Tiny story", corpus_name=CHINESE_NAME, root=root
    ).run()
    assert progress.status == "finished", progress.message
    return Path(progress.run_path)


def copy_run(run: Path, workspace: Path) -> Path:
    return Path(shutil.copytree(run, workspace / run.name))
