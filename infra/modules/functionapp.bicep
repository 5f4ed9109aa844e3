// The Function App on Flex Consumption (FC1, Linux, dotnet-isolated 10.0), its plan and its
// settings. Everything it reaches, it reaches with the user-assigned managed identity.

@description('Name of the Function App.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan; the app also gets azd-service-name.')
param tags object

@description('Service name in azure.yaml; azd finds the app by this tag.')
param serviceName string

@description('Name of the user-assigned managed identity (in this resource group).')
param identityName string

@description('Blob endpoint of the storage account (https://<account>.blob.core.windows.net/).')
param storageBlobEndpoint string

@description('Queue endpoint of the storage account.')
param storageQueueEndpoint string

@description('Table endpoint of the storage account.')
param storageTableEndpoint string

@description('URL of the blob container the app package is deployed from.')
param deploymentContainerUrl string

@description('Name of the Application Insights component (Entra authentication only).')
param applicationInsightsName string

@description('Key Vault URI (https://<vault>.vault.azure.net/).')
param keyVaultUri string

@description('Name of the Key Vault secret holding the SMS Partner API key.')
param smsPartnerApiKeySecretName string

@description('Name of the Key Vault secret holding the callback signing key.')
param callbackSigningKeySecretName string

@description('SMS Partner API root.')
param smsPartnerBaseUrl string

@description('NCRONTAB schedule of the RefreshPendingTags timer.')
param refreshSchedule string

@description('Optional prefix of the app\'s table names.')
param tablePrefix string

@description('The refresh queue (RefreshQueueName).')
param refreshQueueName string

@description('The callbacks queue (CallbacksQueueName).')
param callbacksQueueName string

@description('Maximum number of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of one instance, in MB.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

var identityClientId = appIdentity.properties.clientId

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: appIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// Every setting the app reads in Azure (docs/settings.md). Secrets are not among them: the app
// reads the two keys from Key Vault by name. The local-only settings (SmsPartner__ApiKey,
// Callbacks__SigningKey, TagStorage__ConnectionString) are deliberately absent.
// FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are not set: Flex Consumption takes
// them from functionAppConfig and rejects them as app settings.
resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Host storage through the identity (no connection string, no account key).
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
    AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
    AzureWebJobsStorage__tableServiceUri: storageTableEndpoint

    // Telemetry with Entra authentication (the component has local auth disabled).
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'

    // The identity every Azure SDK client of the app uses.
    Azure__ManagedIdentityClientId: identityClientId

    // Secrets: where they are, by name; never their values.
    Secrets__VaultUri: keyVaultUri
    Secrets__SmsPartnerApiKeyName: smsPartnerApiKeySecretName
    Secrets__CallbackSigningKeyName: callbackSigningKeySecretName
    Secrets__CacheDuration: '00:05:00'

    // The app's tables, and its work queues (the queue triggers read them through AzureWebJobsStorage, the same
    // account; the app itself enqueues through TagStorage__QueueServiceUri).
    TagStorage__TableServiceUri: storageTableEndpoint
    TagStorage__TablePrefix: tablePrefix
    TagStorage__QueueServiceUri: storageQueueEndpoint
    // The deployment made the tables and queues; the identity has data roles only.
    TagStorage__CreateIfMissing: 'false'
    RefreshQueueName: refreshQueueName
    CallbacksQueueName: callbacksQueueName

    // SMS Partner and the app's behaviour (the documented defaults, visible and tunable here).
    SmsPartner__BaseUrl: smsPartnerBaseUrl
    SmsPartner__AttemptTimeout: '00:00:10'
    SmsPartner__TotalTimeout: '00:00:45'
    SmsPartner__RequestsPerSecond: '5'
    SmsPartner__BudgetBatchSize: '2'
    SmsPartner__MaxPages: '10000'
    RefreshSchedule: refreshSchedule
    Lookup__DefaultMaxAge: '60'
    Lookup__MaxInlinePages: '10'
    Lookup__RefreshClaimSeconds: '60'
    Lookup__WaitForRefreshSeconds: '3'
    Retention__Months: '13'
    Retention__SummaryMonths: '25'
    Tracking__Window: '2.00:00:00'
    Tracking__Margin: '06:00:00'
    Tracking__PagesPerRun: '240'
    Tracking__RefreshLease: '00:10:00'
    Tracking__SweepEvery: '01:00:00'
    Tracking__RecheckEvery: '06:00:00'
    Tracking__RecheckFor: '3.00:00:00'
    Callbacks__AllowInsecureUrls: 'false'
    Callbacks__MaxAnyTagSubscriptions: '20'
    Callbacks__SecretRotationOverlap: '1.00:00:00'
    Callbacks__DeadLetterDays: '30'
    // Azure's front end terminates TLS and sets these itself: links (Location, nextLink) keep https.
    Api__TrustForwardedHeaders: 'true'
  }
}

// No basic (user name and password) publishing: deployment uses Entra tokens only.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
