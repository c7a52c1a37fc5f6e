"""The scaling curve: accuracy against mean thinking tokens, with 95% bands, clickable points."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCharts import (
    QAreaSeries,
    QChart,
    QChartView,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from s1desk.ui.lab.curve_data import Curve, CurvePoint

#: One colour per curve (first sample, maj@K), readable on light and dark backgrounds.
COLORS = ("#2f6fde", "#d9730d")
RIGHT, WRONG = "#1a9e55", "#d64545"


class ScalingChart(QChartView):
    """Draws :class:`Curve` values; ``point_clicked`` carries the budget of a clicked point.

    Redrawn whole on each :meth:`set_curves` (a run has a few points per
    curve, so this costs nothing). A curve without intervals (one question,
    one sample) colours each point green (right) or red (wrong).
    """

    point_clicked = Signal(int)

    def __init__(self, dark: bool = False, parent: QWidget | None = None) -> None:
        chart = QChart()
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setTheme(
            QChart.ChartTheme.ChartThemeDark if dark else QChart.ChartTheme.ChartThemeLight
        )
        super().__init__(chart, parent)
        self.setObjectName("scalingChart")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(360, 260)
        self.x_axis = QValueAxis()
        self.x_axis.setTitleText("mean thinking tokens")
        self.x_axis.setLabelFormat("%.0f")
        self.y_axis = QValueAxis()
        self.y_axis.setTitleText("accuracy (%)")
        self.y_axis.setRange(0, 100)
        self.y_axis.setLabelFormat("%.0f")
        self.y_axis.setTickCount(6)
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.curves: list[Curve] = []
        #: The clickable markers of each curve, in the order of ``curves``.
        self.markers: list[QScatterSeries] = []
        self.set_curves([])

    def set_curves(self, curves: Sequence[Curve], title: str = "") -> None:
        chart = self.chart()
        chart.removeAllSeries()
        self.curves = list(curves)
        self.markers = []
        chart.setTitle(title)
        for i, curve in enumerate(self.curves):
            self._add(curve, QColor(COLORS[i % len(COLORS)]))
        self._fit()

    def _attach(self, series: QLineSeries | QScatterSeries | QAreaSeries) -> None:
        self.chart().addSeries(series)
        series.attachAxis(self.x_axis)
        series.attachAxis(self.y_axis)

    def _add(self, curve: Curve, color: QColor) -> None:
        points = sorted(curve.points, key=lambda p: p.budget)
        if curve.intervals and points:
            upper, lower = QLineSeries(), QLineSeries()
            for p in points:
                upper.append(p.tokens, 100 * p.high)
                lower.append(p.tokens, 100 * p.low)
            band = QAreaSeries(upper, lower)
            band.setName(f"{curve.name}: 95% interval")
            fill = QColor(color)
            fill.setAlpha(45)
            band.setBrush(fill)
            band.setPen(QPen(Qt.PenStyle.NoPen))
            self._attach(band)
            self.chart().legend().markers(band)[0].setVisible(False)
            upper.setParent(band)
            lower.setParent(band)
        line = QLineSeries()
        line.setName(curve.name)
        line.setPen(QPen(color, 2))
        for p in points:
            line.append(p.tokens, 100 * p.accuracy)
        self._attach(line)
        markers = QScatterSeries()
        markers.setMarkerSize(11)
        markers.setColor(color)
        markers.setBorderColor(color.darker(130))
        for p in points:
            markers.append(p.tokens, 100 * p.accuracy)
        if not curve.intervals:
            for index, p in enumerate(points):
                tint = QColor(RIGHT if p.correct else WRONG)
                markers.setPointConfiguration(
                    index, {QScatterSeries.PointConfiguration.Color: tint}
                )
        self._attach(markers)
        self.chart().legend().markers(markers)[0].setVisible(False)
        markers.clicked.connect(lambda at, c=curve: self._clicked(c, at))
        markers.hovered.connect(lambda at, state, c=curve: self._hovered(c, at, state))
        self.markers.append(markers)

    def _fit(self) -> None:
        xs = [p.tokens for c in self.curves for p in c.points]
        top = max(xs, default=0.0)
        self.x_axis.setRange(0, max(top * 1.08, 10.0))
        self.x_axis.applyNiceNumbers()
        self.y_axis.setRange(0, 100)

    def point_at(self, curve: Curve, at: QPointF) -> CurvePoint | None:
        """The curve's point nearest ``at`` (in chart values)."""
        if not curve.points:
            return None
        span_x = max(self.x_axis.max() - self.x_axis.min(), 1.0)
        return min(
            curve.points,
            key=lambda p: (
                ((p.tokens - at.x()) / span_x) ** 2 + ((100 * p.accuracy - at.y()) / 100) ** 2
            ),
        )

    def position_of(self, curve_index: int, budget: int) -> QPointF:
        """Where a point is drawn, in the view's coordinates (to click it)."""
        curve = self.curves[curve_index]
        point = next(p for p in curve.points if p.budget == budget)
        scene = self.chart().mapToPosition(
            QPointF(point.tokens, 100 * point.accuracy), self.markers[curve_index]
        )
        return QPointF(self.mapFromScene(self.chart().mapToScene(scene)))

    def _clicked(self, curve: Curve, at: QPointF) -> None:
        point = self.point_at(curve, at)
        if point is not None:
            self.point_clicked.emit(point.budget)

    def _hovered(self, curve: Curve, at: QPointF, state: bool) -> None:
        point = self.point_at(curve, at) if state else None
        self.setToolTip(f"{curve.name}, {point.label}" if point is not None else "")
