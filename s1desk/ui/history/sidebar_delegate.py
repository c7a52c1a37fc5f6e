"""Draws a sidebar row: the title on one line, a muted line (or two) of detail below."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from s1desk.ui.history.sidebar_model import SUBTITLE_ROLE

PAD_X = 10
PAD_Y = 6


class SidebarDelegate(QStyledItemDelegate):
    """Title in bold, then ``subtitle_lines`` of rich-text detail (a date, a snippet)."""

    def __init__(self, subtitle_lines: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.subtitle_lines = subtitle_lines

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        title = QFont(option.font)
        title.setWeight(QFont.Weight.DemiBold)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.88))
        return title, small

    def sizeHint(  # noqa: N802 (Qt override)
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        title, small = self._fonts(option)
        height = QFontMetrics(title).height() + self.subtitle_lines * QFontMetrics(small).height()
        return QSize(120, height + 2 * PAD_Y + 2)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        self.initStyleOption(option, index)
        widget = option.widget
        style = widget.style() if widget is not None else None
        text = option.text
        option.text = ""
        if style is not None:  # background, selection, focus
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, widget)
        rect = option.rect
        palette: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        title_font, small = self._fonts(option)
        painter.save()
        painter.setFont(title_font)
        painter.setPen(palette.color(group))
        inner = rect.adjusted(PAD_X, PAD_Y, -PAD_X, -PAD_Y)
        metrics = QFontMetrics(title_font)
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, inner.width())
        painter.drawText(inner.x(), inner.y() + metrics.ascent(), elided)
        subtitle = index.data(SUBTITLE_ROLE)
        if isinstance(subtitle, str) and subtitle:
            doc = QTextDocument()
            doc.setDefaultFont(small)
            doc.setDocumentMargin(0)
            doc.setHtml(subtitle)
            doc.setTextWidth(inner.width())
            top = inner.y() + metrics.height()
            height = self.subtitle_lines * QFontMetrics(small).height()
            painter.translate(inner.x(), top)
            clip = QRectF(0, 0, inner.width(), height)
            painter.setClipRect(clip)
            context = QAbstractTextDocumentLayout.PaintContext()
            muted = palette.color(group)
            if not selected:
                muted = palette.color(QPalette.ColorRole.PlaceholderText)
            context.palette.setColor(QPalette.ColorRole.Text, muted)
            context.clip = clip
            doc.documentLayout().draw(painter, context)
        painter.restore()
