// ECharts with only what the UI draws, loaded on demand (its own chunk) by the chart components.
import { PieChart } from 'echarts/charts'
import { AriaComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([PieChart, AriaComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { echarts }
