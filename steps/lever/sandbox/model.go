package sandbox

import "slices"

// Phone is a phone number of a contact or opportunity.
type Phone struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// StageChange is one entry of an opportunity's stage history.
type StageChange struct {
	ToStageID    string  `json:"toStageId"`
	ToStageIndex int     `json:"toStageIndex"`
	UpdatedAt    int64   `json:"updatedAt"`
	UserID       *string `json:"userId"`
}

// Archived is the archive state of an opportunity.
type Archived struct {
	ArchivedAt int64  `json:"archivedAt"`
	Reason     string `json:"reason"`
}

// URLs holds the links Lever adds to objects.
type URLs struct {
	List  string `json:"list"`
	Show  string `json:"show"`
	Apply string `json:"apply,omitempty"`
}

// Permission is one half of DataProtection.
type Permission struct {
	Allowed   bool   `json:"allowed"`
	ExpiresAt *int64 `json:"expiresAt"`
}

// DataProtection is the GDPR consent state of an opportunity.
type DataProtection struct {
	Store   Permission `json:"store"`
	Contact Permission `json:"contact"`
}

// Opportunity is the JSON form of a Lever opportunity, as the sandbox
// returns it. Name, headline, emails, phones and location come from the
// opportunity's contact.
type Opportunity struct {
	ID                  string          `json:"id"`
	Name                string          `json:"name"`
	Headline            string          `json:"headline"`
	Contact             string          `json:"contact"`
	Emails              []string        `json:"emails"`
	Phones              []Phone         `json:"phones"`
	Confidentiality     string          `json:"confidentiality"`
	Location            string          `json:"location"`
	Links               []string        `json:"links"`
	CreatedAt           int64           `json:"createdAt"`
	UpdatedAt           int64           `json:"updatedAt"`
	LastInteractionAt   int64           `json:"lastInteractionAt"`
	LastAdvancedAt      int64           `json:"lastAdvancedAt"`
	SnoozedUntil        *int64          `json:"snoozedUntil"`
	Archived            *Archived       `json:"archived"`
	Stage               string          `json:"stage"`
	StageChanges        []StageChange   `json:"stageChanges"`
	Owner               *string         `json:"owner"`
	Tags                []string        `json:"tags"`
	Sources             []string        `json:"sources"`
	Origin              string          `json:"origin"`
	SourcedBy           *string         `json:"sourcedBy"`
	Applications        []string        `json:"applications"`
	Followers           []string        `json:"followers"`
	URLs                URLs            `json:"urls"`
	DataProtection      *DataProtection `json:"dataProtection"`
	IsAnonymized        bool            `json:"isAnonymized"`
	OpportunityLocation string          `json:"opportunityLocation"`
}

// ContactLocation is the object form of a contact's location.
type ContactLocation struct {
	Name string `json:"name"`
}

// Contact is a person; several opportunities can share one contact.
type Contact struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Headline     string           `json:"headline"`
	IsAnonymized bool             `json:"isAnonymized"`
	Location     *ContactLocation `json:"location"`
	Emails       []string         `json:"emails"`
	Phones       []Phone          `json:"phones"`
}

// Categories are a posting's team, department, location and so on.
type Categories struct {
	Team         *string  `json:"team"`
	Department   *string  `json:"department"`
	Location     *string  `json:"location"`
	AllLocations []string `json:"allLocations"`
	Commitment   *string  `json:"commitment"`
	Level        *string  `json:"level"`
}

// ContentList is one titled list of a posting description.
type ContentList struct {
	Text    string `json:"text"`
	Content string `json:"content"`
}

// Content is a posting's description.
type Content struct {
	Description     string        `json:"description"`
	DescriptionHTML string        `json:"descriptionHtml"`
	Lists           []ContentList `json:"lists"`
	Closing         string        `json:"closing"`
	ClosingHTML     string        `json:"closingHtml"`
}

// SalaryRange is a posting's salary range (all four fields or none).
type SalaryRange struct {
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Currency string  `json:"currency"`
	Interval string  `json:"interval"`
}

// Posting is the JSON form of a Lever job posting.
type Posting struct {
	ID                    string       `json:"id"`
	Text                  string       `json:"text"`
	CreatedAt             int64        `json:"createdAt"`
	UpdatedAt             int64        `json:"updatedAt"`
	User                  string       `json:"user"`
	Owner                 *string      `json:"owner"`
	HiringManager         *string      `json:"hiringManager"`
	Confidentiality       string       `json:"confidentiality"`
	Categories            Categories   `json:"categories"`
	Content               Content      `json:"content"`
	Country               *string      `json:"country"`
	Tags                  []string     `json:"tags"`
	State                 string       `json:"state"`
	DistributionChannels  []string     `json:"distributionChannels"`
	ReqCode               *string      `json:"reqCode"`
	RequisitionCodes      []string     `json:"requisitionCodes"`
	SalaryDescription     *string      `json:"salaryDescription,omitempty"`
	SalaryDescriptionHTML *string      `json:"salaryDescriptionHtml,omitempty"`
	SalaryRange           *SalaryRange `json:"salaryRange,omitempty"`
	URLs                  URLs         `json:"urls"`
	WorkplaceType         string       `json:"workplaceType"`
	Followers             []string     `json:"followers"`
}

// User is a Lever user (recruiter, interviewer, admin ...).
type User struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Username            string   `json:"username"`
	Email               string   `json:"email"`
	CreatedAt           int64    `json:"createdAt"`
	DeactivatedAt       *int64   `json:"deactivatedAt"`
	ExternalDirectoryID *string  `json:"externalDirectoryId"`
	AccessRole          string   `json:"accessRole"`
	Photo               *string  `json:"photo"`
	LinkedContactIDs    []string `json:"linkedContactIds"`
	JobTitle            *string  `json:"jobTitle"`
	ManagerID           *string  `json:"managerId"`
}

// Stage is a pipeline stage.
type Stage struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// ArchiveReason is a reason an opportunity can be archived with.
type ArchiveReason struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Status string `json:"status"`
	Type   string `json:"type"`
}

// Count is an entry of GET /tags or GET /sources.
type Count struct {
	Text  string `json:"text"`
	Count int    `json:"count"`
}

// Conditions restricts a webhook to opportunities of some origins.
type Conditions struct {
	Origins []string `json:"origins,omitempty"`
}

// WebhookConfig is a webhook's configuration. SignatureToken is only
// returned by the create call.
type WebhookConfig struct {
	SignatureToken string      `json:"signatureToken,omitempty"`
	Conditions     *Conditions `json:"conditions,omitempty"`
}

// Webhook is a registered webhook.
type Webhook struct {
	ID            string        `json:"id"`
	Event         string        `json:"event"`
	URL           string        `json:"url"`
	Configuration WebhookConfig `json:"configuration"`
	CreatedAt     int64         `json:"createdAt"`
	UpdatedAt     int64         `json:"updatedAt"`
}

func cloneStrs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (c Contact) clone() Contact {
	c.Location = clonePtr(c.Location)
	c.Emails = cloneStrs(c.Emails)
	c.Phones = append([]Phone{}, c.Phones...)
	return c
}

func (p Posting) clone() Posting {
	p.Owner = clonePtr(p.Owner)
	p.HiringManager = clonePtr(p.HiringManager)
	p.Categories.Team = clonePtr(p.Categories.Team)
	p.Categories.Department = clonePtr(p.Categories.Department)
	p.Categories.Location = clonePtr(p.Categories.Location)
	p.Categories.Commitment = clonePtr(p.Categories.Commitment)
	p.Categories.Level = clonePtr(p.Categories.Level)
	p.Categories.AllLocations = cloneStrs(p.Categories.AllLocations)
	p.Content.Lists = append([]ContentList{}, p.Content.Lists...)
	p.Country = clonePtr(p.Country)
	p.Tags = cloneStrs(p.Tags)
	p.DistributionChannels = cloneStrs(p.DistributionChannels)
	p.ReqCode = clonePtr(p.ReqCode)
	p.RequisitionCodes = cloneStrs(p.RequisitionCodes)
	p.SalaryDescription = clonePtr(p.SalaryDescription)
	p.SalaryDescriptionHTML = clonePtr(p.SalaryDescriptionHTML)
	p.SalaryRange = clonePtr(p.SalaryRange)
	p.Followers = cloneStrs(p.Followers)
	return p
}

func (u User) clone() User {
	u.DeactivatedAt = clonePtr(u.DeactivatedAt)
	u.ExternalDirectoryID = clonePtr(u.ExternalDirectoryID)
	u.Photo = clonePtr(u.Photo)
	if u.LinkedContactIDs != nil {
		u.LinkedContactIDs = slices.Clone(u.LinkedContactIDs)
	}
	u.JobTitle = clonePtr(u.JobTitle)
	u.ManagerID = clonePtr(u.ManagerID)
	return u
}

func (w Webhook) clone() Webhook {
	if w.Configuration.Conditions != nil {
		c := Conditions{Origins: slices.Clone(w.Configuration.Conditions.Origins)}
		w.Configuration.Conditions = &c
	}
	return w
}

// opp is the stored form of an opportunity; contact data lives in the
// contact record.
type opp struct {
	id                  string
	contact             string
	confidentiality     string
	links               []string
	createdAt           int64
	updatedAt           int64
	lastInteractionAt   int64
	lastAdvancedAt      int64
	snoozedUntil        *int64
	archived            *Archived
	stage               string
	stageChanges        []StageChange
	owner               *string
	tags                []string
	sources             []string
	origin              string
	sourcedBy           *string
	application         string // "" when none
	posting             string // posting of the application
	appCreatedAt        int64  // 0: the opportunity's createdAt
	appCompany          *string
	appComments         *string
	followers           []string
	dataProtection      *DataProtection
	opportunityLocation string
}
