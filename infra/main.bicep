// Tag Status: everything the app needs, in one resource group, secure by default.
// Deployed by `azd up` (azure.yaml at the repository root); see docs/deploy.md.
targetScope = 'subscription'

@description('Name of the azd environment; names the resource group and seeds the resource names.')
@minLength(1)
@maxLength(54)
param environmentName string

@description('Azure region of every resource (one where Flex Consumption is offered).')
@minLength(1)
param location string

@description('Name of the resource group. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of a user (the deployer) who gets the app\'s data roles for local debugging and Key Vault Secrets Officer to set the secrets. Empty: no human gets data access.')
param deployerPrincipalId string = ''

@description('SMS Partner API root.')
param smsPartnerBaseUrl string = 'https://api.smspartner.fr/v1/'

@description('NCRONTAB schedule of the RefreshPendingTags timer.')
param refreshSchedule string = '0 */1 * * * *'

@description('Optional prefix of the app\'s table names: empty, or a letter then up to 19 letters and digits (Azure table-name rules; the app checks it at start-up).')
@maxLength(20)
param tablePrefix string = ''

@description('The queue the timer puts one message per due tag on (RefreshQueueName).')
param refreshQueueName string = 'tagstatus-refresh'

@description('The queue of callback deliveries (CallbacksQueueName).')
param callbacksQueueName string = 'tagstatus-callbacks'

@description('Maximum number of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of one instance, in MB.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('SMS Partner API key. Empty (the default): the secret is not created; set it with az keyvault secret set.')
@secure()
param smsPartnerApiKey string = ''

@description('Callback HMAC signing key. Empty (the default): the secret is not created; set it with az keyvault secret set.')
@secure()
param callbackSigningKey string = ''

@description('The backlog alert fires when the oldest due refresh is later than this many minutes.')
@minValue(1)
param backlogAlertMinutes int = 15

@description('The dead-lettered callbacks alert fires when more than this many are given up within 15 minutes.')
@minValue(0)
param deadLetteredAlertThreshold int = 0

@description('Email address the two alerts go to. Empty: they fire in the portal only.')
param alertEmail string = ''

var tags = {
  'azd-env-name': environmentName
  application: 'tag-status'
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var serviceName = 'api'
var functionAppName = 'func-${serviceName}-${resourceToken}'
var identityName = 'id-${serviceName}-${resourceToken}'
var applicationInsightsName = 'appi-${resourceToken}'
// Every table the app uses (TableTagStore, TablePassStore, TableBudgetStore); the app does not create them in Azure.
// Recipient month tables are made by the app on first write; the single Recipients table of earlier versions is no longer
// listed (an incremental deployment leaves an existing one, which the retention run deletes with the first expired month).
var appTableNames = map(['Tags', 'TagIndex', 'Passes', 'UpstreamBudget'], table => '${tablePrefix}${table}')
var smsPartnerApiKeySecretName = 'smspartner-api-key'
var callbackSigningKeySecretName = 'callback-signing-key'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  // The identity is referenced by name inside the module.
  dependsOn: [
    identity
  ]
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
    identityName: identityName
  }
}

module dashboard 'modules/dashboard.bicep' = {
  name: 'dashboard'
  scope: rg
  // The Application Insights component is referenced by name inside the module.
  dependsOn: [
    monitoring
  ]
  params: {
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
    backlogAlertMinutes: backlogAlertMinutes
    deadLetteredAlertThreshold: deadLetteredAlertThreshold
    alertEmail: alertEmail
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  // The identity is referenced by name inside the module.
  dependsOn: [
    identity
  ]
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${take(functionAppName, 32)}'
    identityName: identityName
    deployerPrincipalId: deployerPrincipalId
    workQueueNames: [refreshQueueName, callbacksQueueName]
    tableNames: appTableNames
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  // The identity is referenced by name inside the module.
  dependsOn: [
    identity
  ]
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    identityName: identityName
    deployerPrincipalId: deployerPrincipalId
    smsPartnerApiKeySecretName: smsPartnerApiKeySecretName
    callbackSigningKeySecretName: callbackSigningKeySecretName
    smsPartnerApiKey: smsPartnerApiKey
    callbackSigningKey: callbackSigningKey
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  // The identity and the Application Insights component are referenced by name inside the module.
  dependsOn: [
    identity
    monitoring
  ]
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: serviceName
    identityName: identityName
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsName: applicationInsightsName
    keyVaultUri: keyVault.outputs.uri
    smsPartnerApiKeySecretName: smsPartnerApiKeySecretName
    callbackSigningKeySecretName: callbackSigningKeySecretName
    smsPartnerBaseUrl: smsPartnerBaseUrl
    refreshSchedule: refreshSchedule
    tablePrefix: tablePrefix
    refreshQueueName: refreshQueueName
    callbacksQueueName: callbacksQueueName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URI string = functionApp.outputs.uri
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
