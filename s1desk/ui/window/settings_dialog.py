"""The settings panel: sampling, system prompt, budget-forcing text, how a model is loaded
(context, GPU layers, threads, KV cache, flash attention), the window."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from s1desk.backends.local_config import MAX_THREADS
from s1desk.errors import PolicyError
from s1desk.sampling import SamplerSettings
from s1desk.settings import AppSettings
from s1desk.thinking.format import DEFAULT_SYSTEM_PROMPT
from s1desk.thinking.policy import BudgetPolicy
from s1desk.ui.kit.theme import THEMES


def _double(low: float, high: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


def _int(low: int, high: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setGroupSeparatorShown(True)
    return box


class SettingsDialog(QDialog):
    """Edits a copy of the settings; ``result_settings()`` gives them after Accept."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("s1desk settings")
        self.setObjectName("settingsDialog")
        self._settings = settings

        self.temperature = _double(0.0, 2.0, 0.05)
        self.top_p = _double(0.01, 1.0, 0.05)
        self.top_k = _int(0, 1000)
        self.top_k.setSpecialValueText("off")
        self.min_p = _double(0.0, 0.99, 0.01)
        self.repeat_penalty = _double(0.5, 2.0, 0.05)
        self.seed = _int(-1, 2**31 - 1)
        self.seed.setSpecialValueText("random")
        sampling = QGroupBox("Sampling (temperature 0 is greedy, the s1 paper's setting)")
        form = QFormLayout(sampling)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Top-k", self.top_k)
        form.addRow("Min-p", self.min_p)
        form.addRow("Repeat penalty", self.repeat_penalty)
        form.addRow("Seed", self.seed)

        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setObjectName("systemPrompt")
        self.system_prompt.setMaximumHeight(90)
        self.wait_text = QLineEdit()
        self.max_answer = _int(1, 32_768)
        model = QGroupBox("Prompt and budget forcing")
        form2 = QFormLayout(model)
        form2.addRow("System prompt", self.system_prompt)
        form2.addRow("Extension text", self.wait_text)
        form2.addRow("Most answer tokens", self.max_answer)

        self.context_size = _int(512, 131_072)
        self.context_size.setObjectName("contextSize")
        self.context_size.setSingleStep(1024)
        self.context_size.setSuffix(" tokens")
        self.gpu_layers = _int(-1, 999)
        self.gpu_layers.setObjectName("gpuLayers")
        self.gpu_layers.setSpecialValueText("all")
        self.gpu_layers.setToolTip(
            "Layers put on the GPU: all, or a number (0 runs on the CPU). Ignored when this "
            "llama.cpp has no GPU support."
        )
        self.threads = _int(0, MAX_THREADS)
        self.threads.setObjectName("decodeThreads")
        self.threads.setSpecialValueText("automatic")
        self.threads.setToolTip(
            "Threads that decode tokens. Automatic picks them and adapts while decoding, "
            "so a busy machine (a browser, a compiler) does not slow decoding threefold."
        )
        self.threads_batch = _int(0, MAX_THREADS)
        self.threads_batch.setObjectName("promptThreads")
        self.threads_batch.setSpecialValueText("automatic")
        self.threads_batch.setToolTip("Threads that read the prompt")
        self.kv_type = QComboBox()
        self.kv_type.setObjectName("kvType")
        for kv, text in (
            ("f16", "f16 (full precision)"),
            ("q8_0", "q8_0 (half the memory)"),
            ("q4_0", "q4_0 (a quarter)"),
        ):
            self.kv_type.addItem(text, kv)
        self.kv_type.setToolTip("The KV cache's element type; quantized ones need flash attention")
        self.flash_attn = QCheckBox("Flash attention")
        self.flash_attn.setObjectName("flashAttention")
        self.flash_attn.setToolTip("Smaller compute buffers; required by a quantized KV cache")
        self.kv_type.currentIndexChanged.connect(self._kv_changed)
        self.thinking_format = QComboBox()
        self.thinking_format.setObjectName("thinkingFormat")
        for name, text in (
            ("auto", "automatic (from the model file)"),
            ("s1", "s1 (<|im_start|>think … answer)"),
            ("think-tags", "<think> … </think> (DeepSeek-R1, Qwen3, QwQ)"),
            ("gpt-oss", "gpt-oss (analysis and final channels)"),
        ):
            self.thinking_format.addItem(text, name)
        self.thinking_format.setToolTip(
            "How the model marks its thinking, so budget forcing knows where it ends"
        )
        loading = QGroupBox("Loading a model (applies at the next load)")
        loading.setObjectName("loadSettings")
        form4 = QFormLayout(loading)
        form4.addRow("Context", self.context_size)
        form4.addRow("GPU layers", self.gpu_layers)
        form4.addRow("Decode threads", self.threads)
        form4.addRow("Prompt threads", self.threads_batch)
        form4.addRow("KV cache", self.kv_type)
        form4.addRow(self.flash_attn)
        form4.addRow("Thinking format", self.thinking_format)

        self.auto_collapse = QCheckBox("Collapse the reasoning pane when the answer starts")
        self.theme = QComboBox()
        self.theme.addItems(list(THEMES))
        view = QGroupBox("Window")
        form3 = QFormLayout(view)
        form3.addRow(self.auto_collapse)
        form3.addRow("Theme", self.theme)

        self.error = QLabel("")
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b")

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        defaults = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.setText("Restore s1 defaults")
        defaults.clicked.connect(self.restore_defaults)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        for w in (sampling, model, loading, view, self.error, buttons):
            layout.addWidget(w)
        self._show(settings)

    def _show(self, s: AppSettings) -> None:
        self.temperature.setValue(s.sampler.temperature)
        self.top_p.setValue(s.sampler.top_p)
        self.top_k.setValue(s.sampler.top_k)
        self.min_p.setValue(s.sampler.min_p)
        self.repeat_penalty.setValue(s.sampler.repeat_penalty)
        self.seed.setValue(-1 if s.sampler.seed is None else s.sampler.seed)
        self.system_prompt.setPlainText(s.system_prompt)
        self.wait_text.setText(s.policy.wait_text)
        self.max_answer.setValue(s.policy.max_answer)
        self.context_size.setValue(s.context_size)
        self.gpu_layers.setValue(s.gpu_layers)
        self.threads.setValue(s.threads)
        self.threads_batch.setValue(s.threads_batch)
        index = self.kv_type.findData(s.kv_type)
        self.kv_type.setCurrentIndex(max(index, 0))
        self.flash_attn.setChecked(s.flash_attn or self.kv_type.currentData() != "f16")
        self._kv_changed()
        self.thinking_format.setCurrentIndex(
            max(self.thinking_format.findData(s.thinking_format), 0)
        )
        self.auto_collapse.setChecked(s.auto_collapse_reasoning)
        self.theme.setCurrentText(s.theme)

    def _kv_changed(self) -> None:
        quantized = self.kv_type.currentData() != "f16"
        if quantized:
            self.flash_attn.setChecked(True)
        self.flash_attn.setEnabled(not quantized)

    def restore_defaults(self) -> None:
        """Put s1's defaults in the form (budget sliders and window state stay)."""
        d = AppSettings()
        self._show(
            self._settings.replace(
                sampler=d.sampler,
                system_prompt=DEFAULT_SYSTEM_PROMPT,
                policy=replace(
                    self._settings.policy,
                    wait_text=d.policy.wait_text,
                    max_answer=d.policy.max_answer,
                ),
                context_size=d.context_size,
                gpu_layers=d.gpu_layers,
                threads=d.threads,
                threads_batch=d.threads_batch,
                kv_type=d.kv_type,
                flash_attn=d.flash_attn,
                thinking_format=d.thinking_format,
                auto_collapse_reasoning=d.auto_collapse_reasoning,
                theme=d.theme,
            )
        )

    def result_settings(self) -> AppSettings:
        """The settings as edited; raises ``PolicyError`` for values out of range."""
        seed = self.seed.value()
        sampler = SamplerSettings(
            temperature=self.temperature.value(),
            top_p=self.top_p.value(),
            top_k=self.top_k.value(),
            min_p=self.min_p.value(),
            repeat_penalty=self.repeat_penalty.value(),
            seed=None if seed < 0 else seed,
        )
        policy: BudgetPolicy = replace(
            self._settings.policy,
            wait_text=self.wait_text.text(),
            max_answer=self.max_answer.value(),
        )
        return self._settings.replace(
            sampler=sampler,
            policy=policy,
            system_prompt=self.system_prompt.toPlainText(),
            context_size=self.context_size.value(),
            gpu_layers=self.gpu_layers.value(),
            threads=self.threads.value(),
            threads_batch=self.threads_batch.value(),
            kv_type=str(self.kv_type.currentData()),
            flash_attn=self.flash_attn.isChecked(),
            thinking_format=str(self.thinking_format.currentData()),
            auto_collapse_reasoning=self.auto_collapse.isChecked(),
            theme=self.theme.currentText(),
        )

    def _accept(self) -> None:
        try:
            self._settings = self.result_settings()
        except PolicyError as exc:
            self.error.setText(str(exc))
            return
        self.accept()

    @property
    def settings(self) -> AppSettings:
        return self._settings
