package lever

import (
	"encoding/json"

	"github.com/leverflow/leverflow/steps"
)

// Schema builders: every field carries a description (the editor shows it).

func object(desc string, props map[string]*steps.Schema, required ...string) *steps.Schema {
	return &steps.Schema{Type: steps.TypeObject, Description: desc, Properties: props, Required: required}
}

// openObject is an object that may hold fields beyond those listed.
func openObject(desc string, props map[string]*steps.Schema) *steps.Schema {
	s := object(desc, props)
	s.AdditionalProperties = true
	return s
}

func str(desc string) *steps.Schema { return &steps.Schema{Type: steps.TypeString, Description: desc} }

func enum(desc string, values ...string) *steps.Schema {
	s := str(desc)
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	return s
}

func integer(desc string) *steps.Schema {
	return &steps.Schema{Type: steps.TypeInteger, Description: desc}
}

func boolean(desc string) *steps.Schema {
	return &steps.Schema{Type: steps.TypeBoolean, Description: desc}
}

func anyValue(desc string) *steps.Schema {
	return &steps.Schema{Type: steps.TypeAny, Description: desc}
}

func list(desc string, items *steps.Schema) *steps.Schema {
	return &steps.Schema{Type: steps.TypeArray, Description: desc, Items: items}
}

func strList(desc, item string) *steps.Schema { return list(desc, str(item)) }

// millis is a Lever timestamp field of an output.
func millis(desc string) *steps.Schema {
	return integer(desc + " (Unix time in milliseconds, as Lever sends it).")
}

// textOrList is an input filter Lever takes repeated (joined with OR).
func textOrList(desc string) *steps.Schema {
	return anyValue(desc + " Text or a list of text; several values match any of them.")
}

// timeBound is an input time filter.
func timeInput(desc string) *steps.Schema {
	return anyValue(desc + " An RFC 3339 time such as \"2025-01-31T09:00:00Z\" or Unix milliseconds; inclusive.")
}

func performAs(required bool) *steps.Schema {
	desc := "The id of the Lever user the change is made as (shown in Lever's history); see lever.get_users."
	if required {
		desc = "The id of the Lever user the change is made as; Lever requires it here. See lever.get_users."
	}
	return str(desc)
}

func phonesSchema(desc string) *steps.Schema {
	return list(desc, object("A phone number.", map[string]*steps.Schema{
		"type":  enum("The kind of number.", "mobile", "home", "work", "skype", "other"),
		"value": str("The number, such as \"+49 151 2345 6789\"."),
	}, "value"))
}

func urlsSchema() *steps.Schema {
	return openObject("Links to Lever's app and job site.", map[string]*steps.Schema{
		"list":  str("The list view."),
		"show":  str("This object's page."),
		"apply": str("The application form (postings)."),
	})
}

// opportunitySchema lists the fields of Lever's opportunity that workflows
// reference; Lever's other fields are passed through too.
func opportunitySchema(desc string) *steps.Schema {
	ref := func(what string) *steps.Schema {
		return anyValue("The " + what + " id, or the whole object when it is named in expand.")
	}
	return object(desc, map[string]*steps.Schema{
		"id":                str("The opportunity id."),
		"name":              str("The candidate's name."),
		"headline":          str("The candidate's headline, often their current and past employers."),
		"contact":           ref("contact"),
		"emails":            strList("The candidate's email addresses.", "An email address."),
		"phones":            phonesSchema("The candidate's phone numbers."),
		"confidentiality":   str("\"non-confidential\" or \"confidential\"."),
		"location":          str("Where the candidate is."),
		"links":             strList("Links (LinkedIn, GitHub, ...).", "A URL."),
		"createdAt":         millis("When the opportunity was created"),
		"updatedAt":         millis("When it last changed; null on some old records"),
		"lastInteractionAt": millis("The last interaction with the candidate"),
		"lastAdvancedAt":    millis("When it last moved stage"),
		"snoozedUntil":      millis("Snoozed until then; null when not snoozed"),
		"archived": openObject("null while active; else when and why it was archived.", map[string]*steps.Schema{
			"archivedAt": millis("When it was archived"),
			"reason":     anyValue("The archive reason id (an object when expanded)."),
		}),
		"stage": ref("current stage"),
		"stageChanges": list("The stage history, oldest first.", openObject("One move.", map[string]*steps.Schema{
			"toStageId":    str("The stage moved to."),
			"toStageIndex": integer("That stage's position in the pipeline."),
			"updatedAt":    millis("When"),
			"userId":       str("Who moved it; null when Lever did."),
		})),
		"owner":               ref("owning user's"),
		"tags":                strList("The tags.", "A tag."),
		"sources":             strList("The sources.", "A source."),
		"origin":              str("How the candidate came: agency, applied, internal, referred, sourced or university."),
		"sourcedBy":           ref("sourcing user's"),
		"applications":        list("The application ids (objects when expanded); at most one.", anyValue("An application id or object.")),
		"followers":           list("The following users' ids (objects when expanded).", anyValue("A user id or object.")),
		"urls":                urlsSchema(),
		"dataProtection":      anyValue("GDPR consent: null, or {store, contact} each with allowed and expiresAt."),
		"isAnonymized":        boolean("Whether the candidate's data was anonymized."),
		"opportunityLocation": str("The location of the candidacy (of the posting)."),
	})
}

func contactSchema(desc string) *steps.Schema {
	return object(desc, map[string]*steps.Schema{
		"id":           str("The contact id."),
		"name":         str("The person's name."),
		"headline":     str("The person's headline."),
		"isAnonymized": boolean("Whether the person's data was anonymized."),
		"location": openObject("Where the person is; null when unknown.", map[string]*steps.Schema{
			"name": str("The place, such as \"Berlin, Germany\"."),
		}),
		"emails": strList("Email addresses.", "An email address."),
		"phones": phonesSchema("Phone numbers."),
	})
}

func postingSchema(desc string) *steps.Schema {
	ref := func(what string) *steps.Schema {
		return anyValue("The " + what + " user id, or the user object when named in expand.")
	}
	return object(desc, map[string]*steps.Schema{
		"id":                   str("The posting id."),
		"text":                 str("The job title."),
		"createdAt":            millis("When the posting was created"),
		"updatedAt":            millis("When it last changed"),
		"state":                str("published, internal (\"unlisted\" in Lever's app), closed, draft, pending or rejected."),
		"distributionChannels": strList("Where it is listed: public and/or internal.", "A channel."),
		"confidentiality":      str("\"non-confidential\" or \"confidential\"."),
		"user":                 ref("creating"),
		"owner":                ref("owning"),
		"hiringManager":        ref("hiring manager's"),
		"categories": openObject("How the posting is filed.", map[string]*steps.Schema{
			"team":         str("The team."),
			"department":   str("The department."),
			"location":     str("The main location."),
			"allLocations": strList("Every location.", "A location."),
			"commitment":   str("Full-time, Part-time, Contract, ..."),
			"level":        str("The level (deprecated by Lever)."),
		}),
		"tags": strList("The posting's tags.", "A tag."),
		"content": openObject("The posting's text.", map[string]*steps.Schema{
			"description":     str("The description as plain text."),
			"descriptionHtml": str("The description as HTML."),
			"lists": list("Titled lists (\"What you will do\").", openObject("A list.", map[string]*steps.Schema{
				"text":    str("The list's title."),
				"content": str("The items as HTML <li> elements."),
			})),
			"closing":     str("The closing as plain text."),
			"closingHtml": str("The closing as HTML."),
		}),
		"country":               str("The ISO 3166-1 country code."),
		"followers":             list("The following users (ids, objects when expanded).", anyValue("A user id or object.")),
		"reqCode":               str("The requisition code (deprecated: requisitionCodes)."),
		"requisitionCodes":      strList("The requisition codes.", "A code."),
		"salaryDescription":     str("The salary text."),
		"salaryDescriptionHtml": str("The salary text as HTML."),
		"salaryRange": openObject("The salary range; null when not set.", map[string]*steps.Schema{
			"min":      &steps.Schema{Type: steps.TypeNumber, Description: "The lower bound."},
			"max":      &steps.Schema{Type: steps.TypeNumber, Description: "The upper bound."},
			"currency": str("The currency, such as EUR."),
			"interval": str("Such as per-year-salary."),
		}),
		"urls":          urlsSchema(),
		"workplaceType": str("unspecified, onsite, remote or hybrid."),
	})
}

// listOutputSchema is the output of the list steps.
func listOutputSchema(what string, item *steps.Schema) *steps.Schema {
	return object("The "+what+" found.", map[string]*steps.Schema{
		"items":    list("The "+what+", in Lever's order.", item),
		"count":    integer("How many items came back."),
		"has_next": boolean("Whether Lever has more: pass next as offset to continue (also true when max_items stopped the paging early)."),
		"next":     str("The offset token for the following page; empty when there is none."),
	}, "items", "count", "has_next", "next")
}

// listInputProps are the paging inputs of the list steps.
func listInputProps(props map[string]*steps.Schema) map[string]*steps.Schema {
	props["limit"] = &steps.Schema{Type: steps.TypeInteger, Default: float64(100),
		Description: "The page size, 1 to 100 (Lever's default 100)."}
	props["offset"] = str("A next token from an earlier answer, to continue from there.")
	props["all_pages"] = &steps.Schema{Type: steps.TypeBoolean, Default: false,
		Description: "Follow Lever's pages until there are no more or max_items is reached."}
	props["max_items"] = &steps.Schema{Type: steps.TypeInteger, Default: float64(defaultMaxItems),
		Description: "With all_pages, the most items to return, 1 to 10000 (default 1000); has_next says whether more were left."}
	return props
}

// example builds a steps.Example from JSON text.
func example(name, input, output string) steps.Example {
	return steps.Example{Name: name, Input: json.RawMessage(input), Output: json.RawMessage(output)}
}

// errorExample is an example that must fail with an error holding errText.
func errorExample(name, input, errText string) steps.Example {
	return steps.Example{Name: name, Input: json.RawMessage(input), Error: errText}
}
