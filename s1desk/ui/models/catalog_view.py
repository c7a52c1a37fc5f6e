"""The catalog pane: s1 GGUF builds by model, fit verdicts at the chosen context, downloads."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from s1desk.models.advice import advise
from s1desk.models.bandwidth import Bandwidth
from s1desk.models.catalog import Catalog, CatalogModel
from s1desk.models.describe import hardware_text, verdict_text
from s1desk.models.download_events import DownloadFinished
from s1desk.models.fit import (
    Fit,
    KvType,
    Setting,
)
from s1desk.models.hardware import Hardware
from s1desk.models.hub_cache import cached_path
from s1desk.models.speed import decode_speed_text
from s1desk.ui.kit.theme import Colors
from s1desk.ui.models.downloads import Downloads, DownloadUpdate, quant_key
from s1desk.ui.models.quant_row import QuantRow

log = logging.getLogger(__name__)

CONTEXT_SIZES = (2_048, 4_096, 8_192, 16_384, 32_768)


class CatalogView(QWidget):
    """Every build in the catalog, with what it needs and whether this machine has it."""

    use_requested = Signal(object)  # Path of a downloaded model
    downloaded = Signal(object)  # DownloadFinished

    def __init__(
        self,
        catalog: Catalog,
        downloads: Downloads,
        colors: Colors,
        context_size: int = 32_768,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.downloads = downloads
        self.colors = colors
        self.hardware: Hardware | None = None
        self.bandwidth: Bandwidth | None = None
        self.rows: dict[str, QuantRow] = {}
        self.recommended: Fit | None = None
        self.suggestion: Setting | None = None
        self._refresh_task: asyncio.Task[None] | None = None

        self.context = QComboBox()
        self.context.setObjectName("contextSize")
        sizes = sorted(set(CONTEXT_SIZES) | {context_size})
        for n in sizes:
            self.context.addItem(f"{n:,} tokens", n)
        self.context.setCurrentIndex(sizes.index(context_size))
        self.context.setToolTip("The context the model is loaded with: more holds longer chats")
        self.kv_type = QComboBox()
        self.kv_type.setObjectName("kvType")
        for kv, text in (
            (KvType.F16, "f16 (full precision)"),
            (KvType.Q8_0, "q8_0 (half the memory)"),
            (KvType.Q4_0, "q4_0 (a quarter)"),
        ):
            self.kv_type.addItem(text, kv.value)
        self.kv_type.setToolTip(
            "The element type of the KV cache; quantized ones need flash attention"
        )
        self.flash_attn = QCheckBox("Flash attention")
        self.flash_attn.setObjectName("flashAttention")
        self.flash_attn.setToolTip("Smaller compute buffers; required by a quantized KV cache")

        self.hardware_label = QLabel("Checking this machine's GPU and memory…")
        self.hardware_label.setObjectName("hardwareLabel")
        self.hardware_label.setWordWrap(True)
        self.recommend_label = QLabel("")
        self.recommend_label.setObjectName("recommendLabel")
        self.recommend_label.setWordWrap(True)
        self.suggestion_label = QLabel("")
        self.suggestion_label.setObjectName("suggestionLabel")
        self.suggestion_label.setWordWrap(True)
        self.apply_button = QPushButton("Use these settings")
        self.apply_button.setObjectName("applySuggestion")
        self.apply_button.setAutoDefault(False)
        self.apply_button.clicked.connect(self.apply_suggestion)
        self.refresh_button = QPushButton("Refresh from hub")
        self.refresh_button.setObjectName("refreshCatalog")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.setToolTip("Read the real file names, sizes and checksums from the hub")
        self.refresh_button.clicked.connect(self.refresh_from_hub)
        self.refresh_label = QLabel("")
        self.refresh_label.setObjectName("refreshLabel")
        self.refresh_label.setWordWrap(True)
        self.refresh_label.hide()
        self.legend = QLabel(
            "≈ marks a size estimated from the parameter count; “Refresh from hub” reads the "
            "real sizes and checksums."
        )
        self.legend.setObjectName("estimateLegend")
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet(f"color: {colors.muted};")

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Context:"))
        controls.addWidget(self.context)
        controls.addSpacing(12)
        controls.addWidget(QLabel("KV cache:"))
        controls.addWidget(self.kv_type)
        controls.addSpacing(12)
        controls.addWidget(self.flash_attn)
        controls.addStretch(1)
        controls.addWidget(self.refresh_button)
        suggestion = QHBoxLayout()
        suggestion.addWidget(self.suggestion_label, 1)
        suggestion.addWidget(self.apply_button)

        self.list_widget = QWidget()
        self.list_widget.setObjectName("catalogList")
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(4, 4, 4, 4)
        self.list_layout.setSpacing(2)
        scroll = QScrollArea()
        scroll.setObjectName("catalogScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.list_widget)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area = scroll

        layout = QVBoxLayout(self)
        layout.addWidget(self.hardware_label)
        layout.addLayout(controls)
        layout.addWidget(self.recommend_label)
        layout.addLayout(suggestion)
        layout.addWidget(self.refresh_label)
        layout.addWidget(self.legend)
        layout.addWidget(scroll, 1)

        self.context.currentIndexChanged.connect(self.reassess)
        self.kv_type.currentIndexChanged.connect(self._kv_changed)
        self.flash_attn.toggled.connect(self.reassess)
        downloads.update.connect(self._download_update)
        self._kv_changed()
        self.set_catalog(catalog)

    # -- settings ---------------------------------------------------------------------

    @property
    def n_ctx(self) -> int:
        value: int = self.context.currentData()
        return value

    @property
    def kv(self) -> KvType:
        return KvType(self.kv_type.currentData())

    def set_settings(self, n_ctx: int, kv: KvType, flash_attn: bool) -> None:
        """Choose a context size, KV type and flash attention; the verdicts follow."""
        index = self.context.findData(n_ctx)
        if index < 0:
            self.context.addItem(f"{n_ctx:,} tokens", n_ctx)
            index = self.context.count() - 1
        self.context.setCurrentIndex(index)
        self.kv_type.setCurrentIndex(self.kv_type.findData(kv.value))
        self.flash_attn.setChecked(flash_attn or kv is not KvType.F16)

    def _kv_changed(self) -> None:
        quantized = self.kv is not KvType.F16
        if quantized:
            self.flash_attn.setChecked(True)
        self.flash_attn.setEnabled(not quantized)
        self.reassess()

    def apply_suggestion(self) -> None:
        if self.suggestion is not None:
            s = self.suggestion
            self.set_settings(s.n_ctx, s.kv_type, s.flash_attn)

    # -- catalog and machine --------------------------------------------------------------

    def set_catalog(self, catalog: Catalog) -> None:
        """Show ``catalog``; call it while no download runs (their rows are rebuilt)."""
        self.catalog = catalog
        while self.list_layout.count():
            item = self.list_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.rows = {}
        for model in catalog.models:
            self.list_layout.addWidget(self._header(model))
            for q in model.quantizations:
                row = QuantRow(q, self.colors)
                key = quant_key(q)
                row.download_clicked.connect(lambda r=row: self.start_download(r))
                row.pause_clicked.connect(lambda k=key: self.downloads.pause(k))
                row.resume_clicked.connect(lambda k=key: self.downloads.resume(k))
                row.cancel_clicked.connect(lambda k=key: self.downloads.cancel(k))
                row.use_clicked.connect(lambda r=row: self._use(r))
                self.rows[key] = row
                self.list_layout.addWidget(row)
        self.list_layout.addStretch(1)
        self.legend.setVisible(any(q.estimated for m in catalog.models for q in m.quantizations))
        self.refresh_downloaded()
        self.reassess()

    def _header(self, model: CatalogModel) -> QLabel:
        label = QLabel(
            f"<span style='font-size: 13pt; font-weight: 600'>{model.id}</span>"
            f"&nbsp;&nbsp;<span style='color: {self.colors.muted}'>{model.description}</span>"
        )
        label.setObjectName("modelHeader")
        label.setWordWrap(True)
        label.setContentsMargins(4, 10, 4, 2)
        label.setToolTip(", ".join(r.repo_id for r in model.repos))
        return label

    def set_hardware(self, hardware: Hardware, bandwidth: Bandwidth | None = None) -> None:
        """The machine, and its memory bandwidth for speed estimates (None: no estimates)."""
        self.hardware = hardware
        self.bandwidth = bandwidth
        text = hardware_text(hardware)
        if bandwidth is not None:
            gpu = (
                f", GPU {bandwidth.gpu / 1e9:,.0f} GB/s"
                if bandwidth.gpu and hardware.usable_gpus
                else ""
            )
            text += f" Memory bandwidth: {bandwidth.ram / 1e9:.1f} GB/s (measured){gpu}."
        self.hardware_label.setText(text)
        self.reassess()

    def refresh_downloaded(self) -> None:
        """Mark the builds whose every file is in the Hugging Face cache."""
        for key, row in self.rows.items():
            if not self.downloads.active(key):
                row.set_downloaded(cached_path(row.quant.repo_id, row.quant.filenames))

    def reassess(self) -> None:
        """Recompute every verdict, the recommendation and the suggested settings
        (:func:`~s1desk.models.advice.advise`, as ``s1desk models fit`` does)."""
        hw = self.hardware
        if hw is None:
            return
        current = (self.n_ctx, self.kv, self.flash_attn.isChecked())
        advice = advise(
            self.catalog.models,
            hw,
            self.n_ctx,
            self.kv,
            flash_attn=current[2],
            bandwidth=self.bandwidth,
        )
        best = advice.recommended
        for assessed in advice.models:
            for f in assessed.fits:
                assert f.quant is not None
                self.rows[quant_key(f.quant)].set_fit(f, False, assessed.speed(f))
        self.recommended = best
        if best is None:
            self.recommend_label.setText(
                "<b>Nothing fits this machine at these settings.</b> "
                "Try a shorter context or a smaller KV cache type."
            )
        else:
            assert best.quant is not None
            row = self.rows[quant_key(best.quant)]
            speed = advice.speed(best)
            row.set_fit(best, True, speed)
            self.scroll_area.ensureWidgetVisible(row, 0, 40)
            verdict = verdict_text(best).short
            how = f"{verdict[0].lower()}{verdict[1:]}"
            if speed is not None:
                how += f", {decode_speed_text(speed)}"
                if not speed.answers_in_minutes:
                    how += " (nothing here is faster)"
            self.recommend_label.setText(
                f"<b>Recommended for this machine:</b> {best.label} — {how}."
            )
        suggestion = advice.suggestion
        self.suggestion = suggestion.setting if suggestion is not None else None
        if suggestion is not None:
            setting = suggestion.setting
            where = "whole on the GPU" if hw.usable_gpus else "in RAM"
            fa = ", flash attention" if setting.flash_attn else ""
            self.suggestion_label.setText(
                f"{suggestion.target.label} fits {where} with a {setting.n_ctx:,}-token context, "
                f"KV cache {setting.kv_type}{fa} "
                f"({setting.fit.estimate.total / 2**30:.1f} GiB)."
            )
        self.suggestion_label.setVisible(suggestion is not None)
        self.apply_button.setVisible(suggestion is not None)

    def scroll_to_recommended(self) -> None:
        """Bring the recommended build's row into view (once the list is laid out)."""
        best = self.recommended
        if best is not None and best.quant is not None:
            row = self.rows.get(quant_key(best.quant))
            if row is not None:
                self.scroll_area.ensureWidgetVisible(row, 0, 120)

    # -- downloads ----------------------------------------------------------------------

    def start_download(self, row: QuantRow) -> None:
        row.start()
        self.downloads.start(row.quant)
        self.refresh_button.setEnabled(False)

    def _download_update(self, update: DownloadUpdate) -> None:
        row = self.rows.get(update.key)
        if row is not None:
            row.apply(update.event)
        if not self.downloads.running:
            self.refresh_button.setEnabled(True)
        if isinstance(update.event, DownloadFinished):
            self.downloaded.emit(update.event)

    def _use(self, row: QuantRow) -> None:
        if row.path is not None:
            self.use_requested.emit(Path(row.path))

    def row(self, model_id: str, quant: str) -> QuantRow:
        """The row of ``quant`` of ``model_id``."""
        q = self.catalog.quantization(model_id, quant)
        return self.rows[quant_key(q)]

    # -- the hub's file listing ----------------------------------------------------------------

    def refresh_from_hub(self) -> None:
        if self._refresh_task is not None or self.downloads.running:
            return
        self.refresh_button.setEnabled(False)
        self.refresh_label.setText("Reading the file lists from the hub…")
        self.refresh_label.show()
        self._refresh_task = asyncio.ensure_future(self._refresh())

    async def _refresh(self) -> None:
        from s1desk.models.catalog import refresh_catalog

        try:
            catalog, problems = await asyncio.to_thread(refresh_catalog)
        except Exception as exc:
            log.warning("catalog refresh failed: %s", exc)
            self.refresh_label.setText(f"The catalog could not be refreshed: {exc}")
        else:
            self.set_catalog(catalog)
            self.refresh_label.setText(
                "Some repositories could not be read:\n" + "\n".join(problems)
                if problems
                else "Sizes and checksums read from the hub."
            )
        finally:
            self._refresh_task = None
            self.refresh_button.setEnabled(not self.downloads.running)

    async def shutdown(self) -> None:
        task = self._refresh_task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
