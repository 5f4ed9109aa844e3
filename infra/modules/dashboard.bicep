// The operator's view of the app's metrics (the TagStatus meter, exported through OpenTelemetry to
// Application Insights, table customMetrics): an Azure Monitor workbook with one chart per metric,
// and two log search alert rules, on a late refresh backlog and on dead-lettered callbacks.

@description('Name of the Application Insights component the app exports to (in this resource group).')
param applicationInsightsName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Alert when the oldest due refresh is later than this many minutes.')
@minValue(1)
param backlogAlertMinutes int

@description('Alert when more callbacks than this are dead-lettered (given up or refused for good) within the alert window.')
@minValue(0)
param deadLetteredAlertThreshold int

@description('Email address the alerts are sent to. Empty: the alerts fire in the portal only.')
param alertEmail string = ''

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Charts: title, then the query over customMetrics (valueSum/valueCount/valueMax are the exporter's aggregates).
var charts = [
  {
    title: 'Refresh backlog (tags due)'
    query: 'customMetrics | where name == "tagstatus.refresh.backlog" | summarize tags = max(valueMax) by bin(timestamp, 5m)'
  }
  {
    title: 'Oldest due refresh, minutes late'
    query: 'customMetrics | where name == "tagstatus.refresh.backlog.oldest_lateness" | summarize minutes = max(valueMax) / 60 by bin(timestamp, 5m)'
  }
  {
    title: 'Refresh lag by tag age band, seconds (mean)'
    query: 'customMetrics | where name == "tagstatus.refresh.lag" | extend band = tostring(customDimensions["tagstatus.tag.age_band"]) | summarize seconds = sum(valueSum) / sum(valueCount) by bin(timestamp, 5m), band'
  }
  {
    title: 'SMS Partner requests by status (429: throttled)'
    query: 'customMetrics | where name == "tagstatus.upstream.requests" | extend status = coalesce(tostring(customDimensions["http.response.status_code"]), tostring(customDimensions["error.type"])) | summarize requests = sum(valueSum) by bin(timestamp, 5m), status'
  }
  {
    title: 'Pages per refresh (mean)'
    query: 'customMetrics | where name == "tagstatus.refresh.pages" | summarize pages = sum(valueSum) / sum(valueCount) by bin(timestamp, 5m)'
  }
  {
    title: 'Table rows written'
    query: 'customMetrics | where name == "tagstatus.store.rows_written" | summarize rows = sum(valueSum) by bin(timestamp, 5m)'
  }
  {
    title: 'Callbacks by outcome (delivered, retried, dead_lettered, unsubscribed)'
    query: 'customMetrics | where name == "tagstatus.callback.deliveries" | extend outcome = tostring(customDimensions["tagstatus.callback.outcome"]) | summarize deliveries = sum(valueSum) by bin(timestamp, 5m), outcome'
  }
  {
    title: 'Queue lengths'
    query: 'customMetrics | where name == "tagstatus.queue.length" | extend queue = tostring(customDimensions["messaging.destination.name"]) | summarize messages = max(valueMax) by bin(timestamp, 5m), queue'
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: map(range(0, length(charts)), i => {
    type: 3
    name: 'chart-${i}'
    content: {
      version: 'KqlItem/1.0'
      title: charts[i].title
      query: charts[i].query
      size: 0
      timeContext: {
        durationMs: 86400000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: 'timechart'
    }
    customWidth: '50'
  })
  isLocked: false
  fallbackResourceIds: [
    applicationInsights.id
  ]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; stable per component, so a redeployment updates it.
  name: guid(applicationInsights.id, 'tag-status-operations')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Tag Status operations'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(workbookContent)
  }
}

resource alertActionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-tag-status'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'tagstatus'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var alertActions = empty(alertEmail) ? [] : [alertActionGroup.id]

resource backlogAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-tag-status-backlog'
  location: location
  tags: tags
  properties: {
    displayName: 'Tag Status: refresh backlog is late'
    description: 'The oldest due refresh is later than ${backlogAlertMinutes} minutes: the timer is not running, or the upstream budget cannot keep up.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "tagstatus.refresh.backlog.oldest_lateness" | summarize AggregatedValue = max(valueMax)'
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'AggregatedValue'
          operator: 'GreaterThan'
          threshold: backlogAlertMinutes * 60
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: alertActions
    }
  }
}

resource deadLetteredAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-tag-status-dead-lettered-callbacks'
  location: location
  tags: tags
  properties: {
    displayName: 'Tag Status: callbacks dead-lettered'
    description: 'More than ${deadLetteredAlertThreshold} callback events were given up (out of attempts, or refused for good by the receiver) in 15 minutes.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'customMetrics | where name == "tagstatus.callback.deliveries" | where tostring(customDimensions["tagstatus.callback.outcome"]) == "dead_lettered" | summarize AggregatedValue = sum(valueSum)'
          timeAggregation: 'Total'
          metricMeasureColumn: 'AggregatedValue'
          operator: 'GreaterThan'
          threshold: deadLetteredAlertThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: alertActions
    }
  }
}

output workbookId string = workbook.id
