// Parameters for `azd up` / `azd provision`: azd exports its environment (AZURE_ENV_NAME,
// AZURE_LOCATION, and anything set with `azd env set`) before building this file.
using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'tagstatus-dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
param resourceGroupName = readEnvironmentVariable('AZURE_RESOURCE_GROUP', '')

// Opt in to data access for yourself: `azd env set DEPLOYER_PRINCIPAL_ID "$(az ad signed-in-user show --query id -o tsv)"`.
param deployerPrincipalId = readEnvironmentVariable('DEPLOYER_PRINCIPAL_ID', '')

param smsPartnerBaseUrl = readEnvironmentVariable('SMSPARTNER_BASE_URL', 'https://api.smspartner.fr/v1/')
param refreshSchedule = readEnvironmentVariable('REFRESH_SCHEDULE', '0 */1 * * * *')

// Where the backlog and dead-letter alerts are mailed: `azd env set ALERT_EMAIL ops@example.com`. Empty: portal only.
param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')

// The two secret values are deliberately not read here: they would land in azd's .env file in
// clear text. They stay empty, so the template does not create the secrets, and an operator sets
// them in the vault (docs/deploy.md).
