// The Key Vault holding the SMS Partner API key and the callback signing key. RBAC authorisation
// (no access policies), soft delete and purge protection. The app reads the secrets at run time
// with its identity (Key Vault Secrets User); no secret value ever lands in an app setting.
//
// Secret values: optional secure parameters. When a value is given the secret is created (a new
// version on every deployment); when it is empty (the default, and what `azd up` does) the secret
// is NOT created, so a re-provision never overwrites what an operator set with
// `az keyvault secret set` (see docs/deploy.md).

@description('Name of the Key Vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Name of the app\'s user-assigned managed identity (in this resource group).')
param identityName string

@description('Object id of a user who gets Key Vault Secrets Officer (set the secrets, debug locally). Empty: nobody.')
param deployerPrincipalId string = ''

@description('Name of the secret holding the SMS Partner API key.')
param smsPartnerApiKeySecretName string

@description('Name of the secret holding the callback signing key.')
param callbackSigningKeySecretName string

@description('SMS Partner API key. Empty: the secret is not created; an operator sets it.')
@secure()
param smsPartnerApiKey string = ''

@description('Callback HMAC signing key. Empty: the secret is not created; an operator sets it.')
@secure()
param callbackSigningKey string = ''

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

// Key Vault Secrets User: read secret values, nothing else.
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Key Vault Secrets Officer: manage secrets (for the operator who sets them), never given to the app.
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

// Referenced by name, so that role assignment names are known before deployment (what-if).
resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource smsPartnerApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(smsPartnerApiKey)) {
  parent: vault
  name: smsPartnerApiKeySecretName
  properties: {
    value: smsPartnerApiKey
    contentType: 'text/plain'
  }
}

resource callbackSigningKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(callbackSigningKey)) {
  parent: vault
  name: callbackSigningKeySecretName
  properties: {
    value: callbackSigningKey
    contentType: 'text/plain'
  }
}

resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentity.id, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: deployerPrincipalId
    principalType: 'User'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
