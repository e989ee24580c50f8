package lever

import "encoding/json"

// The examples run against the example sandbox that the catalog's example
// test builds (steps/lever/levertest): Lever's sandbox without demo
// candidates, its clock stopped at exampleNowMS, holding one opportunity
// ({{opportunity}}, of contact {{contact}}) and one draft posting
// ({{posting}}). "{{new id}}" in an output stands for an id Lever makes up.
const (
	exampleNowMS          = 1748856600000                          // 2025-06-02T09:30:00Z
	exampleUser           = "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31" // Priya Raman, super admin
	exampleRecruiter      = "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14" // Lena Fischer
	exampleRecruiterEmail = "lena.fischer@northwind-robotics.example"
	exampleStagePhone     = "7a2c9e41-0d5b-4f83-b6a1-4e9c3d7f2b08"
	exampleReasonWithdrew = "c2e8a4f6-0d1b-4e73-9f25-7b3a6c9d1e40"
)

const exampleOpportunity = `{
 "applications": [],
 "archived": null,
 "confidentiality": "non-confidential",
 "contact": "{{contact}}",
 "createdAt": 1748856600000,
 "dataProtection": null,
 "emails": [
  "{{email}}"
 ],
 "followers": [
  "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31"
 ],
 "headline": "Analytical Engines Ltd",
 "id": "{{opportunity}}",
 "isAnonymized": false,
 "lastAdvancedAt": 1748856600000,
 "lastInteractionAt": 1748856600000,
 "links": [],
 "location": "London, United Kingdom",
 "name": "Ada Lovelace",
 "opportunityLocation": "",
 "origin": "referred",
 "owner": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31",
 "phones": [
  {
   "type": "mobile",
   "value": "+44 20 7946 0000"
  }
 ],
 "snoozedUntil": null,
 "sourcedBy": null,
 "sources": [
  "Referral"
 ],
 "stage": "lead-new",
 "stageChanges": [
  {
   "toStageId": "lead-new",
   "toStageIndex": 0,
   "updatedAt": 1748856600000,
   "userId": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31"
  }
 ],
 "tags": [
  "Backend"
 ],
 "updatedAt": 1748856600000,
 "urls": {
  "list": "https://hire.sandbox.lever.co/candidates",
  "show": "https://hire.sandbox.lever.co/candidates/{{opportunity}}"
 }
}`

const exampleCreatedOpportunity = `{
 "applications": [],
 "archived": null,
 "confidentiality": "non-confidential",
 "contact": "{{new id}}",
 "createdAt": 1748856600000,
 "dataProtection": null,
 "emails": [
  "grace@example.com"
 ],
 "followers": [
  "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31"
 ],
 "headline": "Compilers",
 "id": "{{new id}}",
 "isAnonymized": false,
 "lastAdvancedAt": 1748856600000,
 "lastInteractionAt": 1748856600000,
 "links": [],
 "location": "",
 "name": "Grace Hopper",
 "opportunityLocation": "",
 "origin": "sourced",
 "owner": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31",
 "phones": [],
 "snoozedUntil": null,
 "sourcedBy": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31",
 "sources": [],
 "stage": "lead-new",
 "stageChanges": [
  {
   "toStageId": "lead-new",
   "toStageIndex": 0,
   "updatedAt": 1748856600000,
   "userId": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31"
  }
 ],
 "tags": [
  "Senior"
 ],
 "updatedAt": 1748856600000,
 "urls": {
  "list": "https://hire.sandbox.lever.co/candidates",
  "show": "https://hire.sandbox.lever.co/candidates/{{new id}}"
 }
}`

const exampleContact = `{
 "emails": [
  "{{email}}"
 ],
 "headline": "Analytical Engines Ltd",
 "id": "{{contact}}",
 "isAnonymized": false,
 "location": {
  "name": "London, United Kingdom"
 },
 "name": "Ada Lovelace",
 "phones": [
  {
   "type": "mobile",
   "value": "+44 20 7946 0000"
  }
 ]
}`

const examplePosting = `{
 "categories": {
  "allLocations": [
   "Berlin"
  ],
  "commitment": "Full-time",
  "department": null,
  "level": null,
  "location": "Berlin",
  "team": "Platform"
 },
 "confidentiality": "non-confidential",
 "content": {
  "closing": "",
  "closingHtml": "",
  "description": "",
  "descriptionHtml": "",
  "lists": []
 },
 "country": null,
 "createdAt": 1748856600000,
 "distributionChannels": [
  "public",
  "internal"
 ],
 "followers": [
  "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14"
 ],
 "hiringManager": null,
 "id": "{{posting}}",
 "owner": "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14",
 "reqCode": null,
 "requisitionCodes": [],
 "state": "draft",
 "tags": [],
 "text": "Staff Engineer",
 "updatedAt": 1748856600000,
 "urls": {
  "apply": "https://jobs.sandbox.lever.co/northwind-robotics/{{posting}}/apply",
  "list": "https://jobs.sandbox.lever.co/northwind-robotics",
  "show": "https://jobs.sandbox.lever.co/northwind-robotics/{{posting}}"
 },
 "user": "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14",
 "workplaceType": "unspecified"
}`

const exampleCreatedPosting = `{
 "categories": {
  "allLocations": [
   "Berlin"
  ],
  "commitment": "Full-time",
  "department": null,
  "level": null,
  "location": "Berlin",
  "team": "Platform"
 },
 "confidentiality": "non-confidential",
 "content": {
  "closing": "",
  "closingHtml": "",
  "description": "",
  "descriptionHtml": "",
  "lists": []
 },
 "country": null,
 "createdAt": 1748856600000,
 "distributionChannels": [
  "public",
  "internal"
 ],
 "followers": [
  "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31"
 ],
 "hiringManager": null,
 "id": "{{new id}}",
 "owner": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31",
 "reqCode": null,
 "requisitionCodes": [],
 "state": "draft",
 "tags": [],
 "text": "Compiler Engineer",
 "updatedAt": 1748856600000,
 "urls": {
  "apply": "https://jobs.sandbox.lever.co/northwind-robotics/{{new id}}/apply",
  "list": "https://jobs.sandbox.lever.co/northwind-robotics",
  "show": "https://jobs.sandbox.lever.co/northwind-robotics/{{new id}}"
 },
 "user": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31",
 "workplaceType": "unspecified"
}`

const exampleRecruiterUser = `{
 "accessRole": "team member",
 "createdAt": 1679743800000,
 "created_at": "2023-03-25T11:30:00Z",
 "deactivatedAt": null,
 "email": "lena.fischer@northwind-robotics.example",
 "externalDirectoryId": "NW-10377",
 "first_name": "Lena",
 "id": "c47d1e88-3a92-4f0b-b6e1-9a5f2d8c0e14",
 "jobTitle": "Technical Recruiter",
 "last_name": "Fischer",
 "license_status": "paid",
 "linkedContactIds": null,
 "managerId": "8f3a2c1e-5b7d-4e90-a1c4-6d2e9b0f7a31",
 "name": "Lena Fischer",
 "photo": null,
 "role": "team member",
 "status": "active",
 "username": "lena.fischer"
}`

const exampleReasonsRequest = `{
 "status": 200,
 "data": [
  {
   "id": "9a3d5f71-2c8e-4b06-a4d9-6e1f3b7c0a52",
   "status": "active",
   "text": "Hired",
   "type": "hired"
  },
  {
   "id": "f0a6c8e2-5b3d-4917-a2f8-3c7e1d9b6a04",
   "status": "active",
   "text": "Hired for another posting",
   "type": "hired"
  }
 ],
 "has_next": false,
 "next": "",
 "body": {
  "data": [
   {
    "id": "9a3d5f71-2c8e-4b06-a4d9-6e1f3b7c0a52",
    "status": "active",
    "text": "Hired",
    "type": "hired"
   },
   {
    "id": "f0a6c8e2-5b3d-4917-a2f8-3c7e1d9b6a04",
    "status": "active",
    "text": "Hired for another posting",
    "type": "hired"
   }
  ],
  "hasNext": false
 }
}`

func exampleOpportunityWith(fields map[string]any) string { return with(exampleOpportunity, fields) }
func exampleContactWith(fields map[string]any) string     { return with(exampleContact, fields) }
func examplePostingWith(fields map[string]any) string     { return with(examplePosting, fields) }

// with returns the JSON object base with fields set.
func with(base string, fields map[string]any) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		panic("lever: example JSON: " + err.Error())
	}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("lever: example JSON: " + err.Error())
	}
	return string(b)
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
